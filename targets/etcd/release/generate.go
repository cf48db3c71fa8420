package release

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// GofailVersion is the gofail every build module requires: its enable
// command rewrites the failpoint comments, its runtime package serves
// them.
const GofailVersion = "v0.2.0"

// gofailModule is gofail's module path.
const gofailModule = "go.etcd.io/gofail"

// goDirective is the go line of every build module: the Go release
// faultline is built with, and the first to let go.mod name tools.
const goDirective = "1.26.0"

// buildModulePath is the module path of v's build module. It names the
// kept directory; nothing imports it.
func buildModulePath(v Version) string {
	return "github.com/faultline/faultline/" + KeptModules + "/" + v.String()
}

// goMod is the go.mod that Generate starts from: the release's server and
// gofail as tools, and the fixes v needs, each with its reason. go mod
// tidy then adds every other requirement from etcd's own go.mod files.
func goMod(v Version) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// Build module of etcd %s for faultline (package targets/etcd/release).\n", v)
	fmt.Fprintf(&b, "// `go build %s` here builds the release; a copy of this\n", ServerModule)
	b.WriteString("// module whose go.mod replaces the server by gofail-enabled sources builds\n")
	fmt.Fprintf(&b, "// it with failpoints. Made by `go run ./targets/etcd/release/cmd/etcdrelease\n// keep %s`, which runs go mod tidy: every version not written below is\n", v)
	b.WriteString("// what etcd's own go.mod files choose.\n\n")
	fmt.Fprintf(&b, "module %s\n\ngo %s\n\n", buildModulePath(v), goDirective)
	fmt.Fprintf(&b, "// The release built.\nrequire %s %s\n\n", ServerModule, v)
	fmt.Fprintf(&b, "// Failpoints: gofail enable rewrites the sources, the runtime serves GOFAIL_HTTP.\nrequire %s %s\n\n", gofailModule, GofailVersion)
	for _, f := range fixesFor(v) {
		fmt.Fprintf(&b, "// %s\nrequire %s %s\n\n", f.Why, f.Module, f.Version)
	}
	fmt.Fprintf(&b, "tool (\n\t%s\n\t%s\n)\n", ServerModule, gofailModule)
	return b.String()
}

// Generate writes the build module of v into dir: go.mod (goMod) and the
// go.sum that go mod tidy makes for it, then checks that tidy kept the
// release and gofail at their versions. It works in a scratch directory
// beside dir and moves the files in only when all went well, so a failure
// leaves dir as it was. dir's parent must exist.
func Generate(ctx context.Context, dir string, v Version) error {
	scratch, err := os.MkdirTemp(filepath.Dir(dir), "."+v.String()+"-")
	if err != nil {
		return fmt.Errorf("generate build module of etcd %s: %w", v, err)
	}
	defer os.RemoveAll(scratch)
	if err := tidyModule(ctx, scratch, v); err != nil {
		return fmt.Errorf("generate build module of etcd %s: %w", v, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("generate build module of etcd %s: %w", v, err)
	}
	// go.sum first: a directory with a go.mod but no go.sum is seen as
	// not generated, never as complete.
	for _, name := range []string{"go.sum", "go.mod"} {
		if err := os.Rename(filepath.Join(scratch, name), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("generate build module of etcd %s: %w", v, err)
		}
	}
	return nil
}

// tidyModule writes goMod(v) into dir, runs go mod tidy there and checks
// the outcome.
func tidyModule(ctx context.Context, dir string, v Version) error {
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod(v)), 0o644); err != nil {
		return err
	}
	if _, err := goCommand(ctx, dir, nil, "mod", "tidy"); err != nil {
		return err
	}
	return checkModule(ctx, dir, v)
}

// checkModule checks that the build module in dir has the release, gofail
// and v's fixes at the versions goMod wrote: go mod tidy may not have
// raised them, and a cached module made before a fix was added lacks it.
func checkModule(ctx context.Context, dir string, v Version) error {
	want := map[string]string{ServerModule: v.String(), gofailModule: GofailVersion}
	for _, f := range fixesFor(v) {
		want[f.Module] = f.Version
	}
	for path, version := range want {
		got, err := moduleVersion(ctx, dir, path)
		if err != nil {
			return err
		}
		if got != version {
			return fmt.Errorf("%s/go.mod has %s at %s, not %s", dir, path, got, version)
		}
	}
	return nil
}

// moduleVersion is the version of module path in the build list of the
// module in dir.
func moduleVersion(ctx context.Context, dir, path string) (string, error) {
	out, err := goCommand(ctx, dir, nil, "list", "-mod=readonly", "-m", "-json", path)
	if err != nil {
		return "", err
	}
	var m struct{ Version string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("go list -m %s: %w", path, err)
	}
	return m.Version, nil
}
