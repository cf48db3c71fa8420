package release

import (
	"context"
	"fmt"
	"path/filepath"
)

// buildEnv makes the binary static, so it runs on the base image whatever
// libc it has, and for Linux, the nodes' system.
var buildEnv = []string{"CGO_ENABLED=0", "GOOS=linux"}

// Build compiles the etcd server of m's release to the file out, with
// gofail failpoints when failpoints is set (see BuildFailpoints). The
// build is -trimpath and -mod=readonly: it uses exactly the versions m's
// go.sum pins and fails rather than change them.
func Build(ctx context.Context, m Module, failpoints bool, out string) error {
	if failpoints {
		return BuildFailpoints(ctx, m, out)
	}
	if err := goBuild(ctx, m.Dir, out); err != nil {
		return fmt.Errorf("build etcd %s: %w", m.Version, err)
	}
	return nil
}

// goBuild builds etcd's server package in the module in dir to out.
func goBuild(ctx context.Context, dir, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	_, err = goCommand(ctx, dir, buildEnv, "build", "-mod=readonly", "-trimpath", "-o", abs, ServerModule)
	return err
}
