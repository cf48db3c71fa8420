// Package release builds any etcd release from v3.5.0 on, with or without
// gofail failpoints, as a targets.BinarySpec the image builder layers on the
// base image.
//
// Each release is built in a build module of its own: a go.mod that
// requires go.etcd.io/etcd/server/v3 at that version (and gofail, the
// failpoint tool) and the go.sum that go mod tidy made for it. The
// releases faultline's scenarios and tests pin (Pinned) keep their build
// modules in this repository, under modules/<version>, so that every clone
// builds exactly the same etcd; any other release gets one generated on
// demand under the user's cache directory (CacheDir), once.
//
// A failpoint build copies the release's server sources out of the module
// cache, runs gofail enable on the files that carry "// gofail: var"
// comments and builds against that copy. The binary then serves gofail's
// HTTP endpoint when started with GOFAIL_HTTP=<host:port>: PUT /<name> with
// a term such as "panic", "sleep(100)" or "1*panic" arms a failpoint,
// DELETE /<name> disarms it, GET /<name> and GET / show them.
//
// Two things the live checks showed. gofail v0.2.0's bare "panic" term
// panics with "failpoint panic: {}"; arm `panic("<name>")` to have the
// name in the log (the stack trace has the failpoint's file and line
// either way, as gofail keeps the line numbers). And in a single-member
// cluster of a 3.5 release from v3.5.5 on, where raft commits entries in
// the same Ready that appends them, etcd saves them past
// raftBeforeSaveWaitWalSync, not raftBeforeSave.
package release
