package release

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// serverCopy is the directory, inside a failpoint build's scratch module,
// that the release's server sources are copied to and the go.mod's
// replace points at. Relative, so the binary's build info names no
// scratch path.
const serverCopy = "server"

// BuildFailpoints compiles m's release with every failpoint its server
// has (ScanFailpoints) to the file out. In a scratch directory it removes
// afterwards it copies m's go.mod and go.sum, copies the server sources
// from the module cache, runs m's pinned gofail (go tool gofail enable) on
// the files with failpoints, and builds with the server replaced by that
// copy. gofail's runtime comes from m's go.sum like everything else.
func BuildFailpoints(ctx context.Context, m Module, out string) error {
	if err := buildFailpoints(ctx, m, out); err != nil {
		return fmt.Errorf("build etcd %s with failpoints: %w", m.Version, err)
	}
	return nil
}

func buildFailpoints(ctx context.Context, m Module, out string) error {
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	src, err := downloadModule(ctx, m.Dir, ServerModule)
	if err != nil {
		return err
	}
	if src.Version != m.Version.String() {
		return fmt.Errorf("the build module in %s has %s at %s", m.Dir, ServerModule, src.Version)
	}
	scratch, err := os.MkdirTemp("", "faultline-etcd-"+m.Version.String()+"-failpoints-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	for _, name := range []string{"go.mod", "go.sum"} {
		if err := copyFile(filepath.Join(m.Dir, name), filepath.Join(scratch, name)); err != nil {
			return err
		}
	}
	server := filepath.Join(scratch, serverCopy)
	if err := copyTree(src.Dir, server); err != nil {
		return err
	}
	fps, err := ScanFailpoints(server)
	if err != nil {
		return err
	}
	if len(fps) == 0 {
		return fmt.Errorf("its server sources have no failpoints")
	}
	if err := enableFailpoints(ctx, scratch, fps); err != nil {
		return err
	}
	replace := fmt.Sprintf("-replace=%s=./%s", ServerModule, serverCopy)
	if _, err := goCommand(ctx, scratch, nil, "mod", "edit", replace); err != nil {
		return err
	}
	return goBuild(ctx, scratch, out)
}

// enableFailpoints runs the build module's gofail on the files of fps in
// the server copy under scratch and checks that it bound every failpoint.
func enableFailpoints(ctx context.Context, scratch string, fps []Failpoint) error {
	args := []string{"tool", "gofail", "enable"}
	for _, f := range failpointFiles(fps) {
		args = append(args, path.Join(serverCopy, f))
	}
	if _, err := goCommand(ctx, scratch, nil, args...); err != nil {
		return err
	}
	bound, err := countBindings(filepath.Join(scratch, serverCopy))
	if err != nil {
		return err
	}
	if bound != len(fps) {
		return fmt.Errorf("gofail enable bound %d failpoints, the sources have %d", bound, len(fps))
	}
	return nil
}

// countBindings counts the failpoints that gofail's generated .fail.go
// files under dir register with its runtime.
func countBindings(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".fail.go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n += strings.Count(string(b), "runtime.NewFailpoint(")
		return nil
	})
	return n, err
}
