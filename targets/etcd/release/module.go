package release

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/faultline/faultline/targets"
)

// KeptModules is where, relative to the faultline module's root, the
// build modules of the Pinned releases are kept: one directory per
// release, named after it, holding go.mod and go.sum. Each is a nested
// module, so the main module's go build, vet and test ignore it.
const KeptModules = "targets/etcd/release/modules"

// Module is the build module of one release: a directory with the go.mod
// that requires the release's server and the go.sum that pins everything
// it is built from.
type Module struct {
	// Version is the release the module builds.
	Version Version
	// Dir holds go.mod and go.sum.
	Dir string
	// Kept says that Dir is in this repository (a Pinned release) rather
	// than in CacheDir.
	Kept bool
}

// Hash is a hex SHA-256 of the module's go.mod and go.sum: it changes
// whenever the sources a build uses change.
func (m Module) Hash() (string, error) {
	h, err := targets.HashTree(m.Dir, "go.mod", "go.sum")
	if err != nil {
		return "", fmt.Errorf("build module of etcd %s: %w", m.Version, err)
	}
	return h, nil
}

// CacheDir is where build modules of releases that are not Pinned are
// generated: faultline/etcd under the user's cache directory
// ($XDG_CACHE_HOME, else ~/.cache), one directory per release.
func CacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("etcd build module cache: %w", err)
	}
	return filepath.Join(dir, "faultline", "etcd"), nil
}

// IsPinned reports whether v is one of the Pinned releases.
func IsPinned(v Version) bool { return slices.Contains(Pinned, v.String()) }

// FindModule returns the build module of v, a release Resolve accepted.
// A Pinned release's is the one kept in the repository (it is an error
// for it to be missing: CI must build what the repository says); any
// other's is in CacheDir, generated there with Generate the first time,
// and again when it lacks a fix that fixes now lists for v.
func FindModule(ctx context.Context, v Version) (Module, error) {
	if IsPinned(v) {
		root, err := targets.ModuleRoot()
		if err != nil {
			return Module{}, fmt.Errorf("build module of etcd %s: %w", v, err)
		}
		m := Module{Version: v, Dir: filepath.Join(root, KeptModules, v.String()), Kept: true}
		if err := hasModuleFiles(m.Dir); err != nil {
			return Module{}, fmt.Errorf("build module of etcd %s, a pinned release: %w; regenerate it with go run ./targets/etcd/release/cmd/etcdrelease keep %s", v, err, v)
		}
		return m, nil
	}
	cache, err := CacheDir()
	if err != nil {
		return Module{}, err
	}
	m := Module{Version: v, Dir: filepath.Join(cache, v.String())}
	if err := hasModuleFiles(m.Dir); err == nil {
		if checkModule(ctx, m.Dir, v) == nil {
			return m, nil
		}
		// Made before a fix it now needs: make it again.
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Module{}, fmt.Errorf("build module of etcd %s: %w", v, err)
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return Module{}, fmt.Errorf("build module of etcd %s: %w", v, err)
	}
	if err := Generate(ctx, m.Dir, v); err != nil {
		return Module{}, err
	}
	return m, nil
}

// hasModuleFiles checks that dir has a go.mod and a go.sum.
func hasModuleFiles(dir string) error {
	for _, name := range []string{"go.mod", "go.sum"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}
