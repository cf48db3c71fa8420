package release

// fix is a requirement a build module adds to what etcd's own go.mod
// files would choose, because the release does not build or run as it is
// with the Go faultline is built with. Since Go does not honour the
// replace directives in a dependency's go.mod, a fix can only raise a
// version.
type fix struct {
	// From and To bound the releases that need it, both included.
	From, To Version
	// Module and Version are the requirement.
	Module, Version string
	// Why is the go.mod comment above the requirement.
	Why string
}

// fixes lists every fix. Every Pinned release builds and serves with Go
// 1.26 as etcd's requirements stand, so it is empty for now; a release
// that needs one gets it here, and then in its kept go.mod by `etcdrelease
// keep`.
var fixes []fix

// fixesFor returns the fixes of v, in the order of fixes.
func fixesFor(v Version) []fix {
	var out []fix
	for _, f := range fixes {
		if !v.Less(f.From) && !f.To.Less(v) {
			out = append(out, f)
		}
	}
	return out
}
