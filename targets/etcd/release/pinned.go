package release

// Pinned lists the releases that faultline's scenarios and tests use. Their
// build modules are kept in this repository under modules/<version>
// (regenerate one with `go run ./targets/etcd/release/cmd/etcdrelease keep
// <version>`); every other release gets its build module in CacheDir.
//
// The releases on either side of a bug of the track record are pinned
// for its scenario (faultline.Regressions). v3.5.35 is the newest v3.5.x and v3.6.16 the newest v3.6.x that the
// module proxy served when they were added.
var Pinned = []string{
	"v3.5.2", "v3.5.4", "v3.5.5", "v3.5.6", "v3.5.7", "v3.5.8", "v3.5.13",
	"v3.5.15", "v3.5.16", "v3.5.17", "v3.5.18", "v3.5.21", "v3.5.22", "v3.5.35",
	"v3.6.0", "v3.6.16",
	"v3.7.3",
}
