package release

import (
	"context"
	"fmt"
	"strings"
)

// Failpoints returns the names of the failpoints that etcd release version
// has, sorted: every one a failpoint build of it serves. It resolves the
// version (Resolve) and scans the release's server sources in the module
// cache. FailpointsContext is the same with a context.
func Failpoints(version string) ([]string, error) {
	return FailpointsContext(context.Background(), version)
}

// FailpointsContext is Failpoints with a context for the go command.
func FailpointsContext(ctx context.Context, version string) ([]string, error) {
	v, dir, err := resolve(ctx, version)
	if err != nil {
		return nil, err
	}
	fps, err := ScanFailpoints(dir)
	if err != nil {
		return nil, fmt.Errorf("failpoints of etcd %s: %w", v, err)
	}
	names := make([]string, len(fps))
	for i, fp := range fps {
		names[i] = fp.Name
	}
	return names, nil
}

// CheckFailpoints refuses the names in want that etcd release version does
// not have, naming them and listing those it has.
func CheckFailpoints(ctx context.Context, version string, want []string) error {
	have, err := FailpointsContext(ctx, version)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(have))
	for _, name := range have {
		known[name] = true
	}
	var unknown []string
	for _, name := range want {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("etcd %s has no failpoint %s; it has %s", version, strings.Join(unknown, ", "), strings.Join(have, ", "))
	}
	return nil
}
