package release

import (
	"context"
	"fmt"

	"github.com/faultline/faultline/targets"
)

// BinaryName is the executable's name in the image, and so the image's.
const BinaryName = "etcd"

// recipe numbers the way Build turns a build module into a binary; it is
// in every Key, so a change of the recipe (which files gofail rewrites,
// the build flags) rebuilds the images.
const recipe = 1

// Spec returns the image builder's description of etcd release version
// (any Resolve accepts), with failpoints or without. Resolving the
// version and finding its build module (generating it in CacheDir when it
// is neither kept nor cached) happen now; the compile happens when the
// image builder calls Build, and not at all when an image of the same Key
// exists.
func Spec(ctx context.Context, version string, failpoints bool) (targets.BinarySpec, error) {
	v, err := Resolve(ctx, version)
	if err != nil {
		return targets.BinarySpec{}, err
	}
	m, err := FindModule(ctx, v)
	if err != nil {
		return targets.BinarySpec{}, err
	}
	key, err := Key(m, failpoints)
	if err != nil {
		return targets.BinarySpec{}, err
	}
	return targets.BinarySpec{
		Name: BinaryName,
		Key:  key,
		Build: func(ctx context.Context, out string) error {
			return Build(ctx, m, failpoints, out)
		},
	}, nil
}

// Key identifies what a build of m, with or without failpoints, is made
// of: the release, the failpoint choice (and gofail's version), the hash
// of m's go.mod and go.sum, and the build recipe.
func Key(m Module, failpoints bool) (string, error) {
	h, err := m.Hash()
	if err != nil {
		return "", err
	}
	mode := "plain"
	if failpoints {
		mode = "failpoints gofail " + GofailVersion
	}
	return fmt.Sprintf("etcd %s %s build-module sha256:%s recipe %d", m.Version, mode, h, recipe), nil
}
