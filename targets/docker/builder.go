// Package docker runs a cluster under test as Docker containers on one
// local engine: it builds the images (a Debian base made by debootstrap,
// plus one binary per target), creates a per-run internal network and one
// container per node, starts and stops the DB processes inside them, and
// sweeps up whatever dead runs left behind.
//
// It speaks to the engine only through the Docker SDK, never the CLI.
package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/faultline/faultline/targets"
)

// Builder makes the images of targets. It implements targets.ImageBuilder.
// Images are tagged by a hash of their inputs and never rebuilt while the
// tag exists, so a second run builds nothing. A Builder is safe for
// concurrent use; concurrent harness processes serialize the base image
// build with a lock file.
type Builder struct {
	cli    client.APIClient
	recipe baseRecipe
	// Mirror is the Debian mirror debootstrap downloads from; empty
	// means HostMirror.
	Mirror string
	// Logf reports progress of slow builds; nil is silent.
	Logf func(format string, args ...any)

	mu sync.Mutex // serializes BaseImage within the process
}

// NewBuilder returns a Builder of the default base image: Debian bookworm
// (minbase) with iptables, iproute2 and procps, its iptables pointing to
// the legacy (x_tables) backend, which is the one that works on kernels
// without nf_tables, such as this project's CI machines.
func NewBuilder(cli client.APIClient) *Builder {
	return &Builder{cli: cli, recipe: defaultRecipe}
}

var _ targets.ImageBuilder = (*Builder)(nil)

func (b *Builder) logf(format string, args ...any) {
	if b.Logf != nil {
		b.Logf(format, args...)
	}
}

// BaseImage makes sure the base image exists and returns its tag,
// faultline/base:<hash of the recipe>. Building it takes about 35 s
// (debootstrap, then an import of the root filesystem as one layer).
func (b *Builder) BaseImage(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	tag := b.recipe.tag()
	if ok, err := b.exists(ctx, tag); err != nil {
		return "", fmt.Errorf("base image: %w", err)
	} else if ok {
		return tag, nil
	}
	unlock, err := lockFile(ctx, filepath.Join(os.TempDir(), "faultline-base.lock"))
	if err != nil {
		return "", fmt.Errorf("base image: %w", err)
	}
	defer unlock()
	// Another process may have built it while we waited.
	if ok, err := b.exists(ctx, tag); err != nil {
		return "", fmt.Errorf("base image: %w", err)
	} else if ok {
		return tag, nil
	}
	start := time.Now()
	mirror := b.Mirror
	if mirror == "" {
		mirror = HostMirror(b.recipe.Suite)
	}
	b.logf("building base image %s: debootstrap %s from %s (about 35 s)", tag, b.recipe.Suite, mirror)
	dir, err := os.MkdirTemp("", "faultline-rootfs-")
	if err != nil {
		return "", fmt.Errorf("base image: %w", err)
	}
	defer func() {
		if err := removeRootfs(dir); err != nil {
			b.logf("base image: %v", err)
		}
	}()
	if err := b.recipe.debootstrap(ctx, dir, mirror); err != nil {
		return "", fmt.Errorf("base image %s: %w", tag, err)
	}
	bootstrapped := time.Now()
	if err := b.importRootfs(ctx, dir, tag); err != nil {
		return "", fmt.Errorf("base image %s: %w", tag, err)
	}
	b.logf("built base image %s in %v (debootstrap %v, import %v)", tag,
		time.Since(start).Round(100*time.Millisecond),
		bootstrapped.Sub(start).Round(100*time.Millisecond),
		time.Since(bootstrapped).Round(100*time.Millisecond))
	return tag, nil
}

// importRootfs streams the tree at dir into the engine as image tag.
func (b *Builder) importRootfs(ctx context.Context, dir, tag string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeRootfsTar(pw, dir)) }()
	defer pr.Close()
	rc, err := b.cli.ImageImport(ctx, image.ImportSource{Source: pr, SourceName: "-"}, tag, image.ImportOptions{
		Changes: []string{
			`ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
			`CMD ["sleep", "infinity"]`,
			`LABEL faultline.image=base`,
		},
	})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer rc.Close()
	if err := readProgress(rc); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}

// BinaryImage returns the tag of the base image plus spec's executable at
// /usr/local/bin/<name>, built with ImageBuild from an in-memory context.
// The tag, faultline/<name>:<hash>, hashes the base tag, the Dockerfile
// and spec.Key (or, when Key is empty, the binary's bytes), so with a Key
// an existing image means spec.Build is not even called.
func (b *Builder) BinaryImage(ctx context.Context, spec targets.BinarySpec) (string, error) {
	if err := spec.Validate(); err != nil {
		return "", err
	}
	base, err := b.BaseImage(ctx)
	if err != nil {
		return "", err
	}
	// One step, so the build leaves no intermediate image behind.
	dockerfile := fmt.Sprintf("FROM %s\nCOPY %s /usr/local/bin/%s\n", base, spec.Name, spec.Name)
	tagOf := func(key string) string {
		sum := sha256.Sum256([]byte(base + "\x00" + dockerfile + "\x00" + key))
		return fmt.Sprintf("faultline/%s:%s", spec.Name, hex.EncodeToString(sum[:])[:12])
	}
	if spec.Key != "" {
		if ok, err := b.exists(ctx, tagOf(spec.Key)); err != nil {
			return "", fmt.Errorf("image %s: %w", spec.Name, err)
		} else if ok {
			return tagOf(spec.Key), nil
		}
	}
	dir, err := os.MkdirTemp("", "faultline-bin-")
	if err != nil {
		return "", fmt.Errorf("image %s: %w", spec.Name, err)
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	b.logf("building %s", spec.Name)
	out := filepath.Join(dir, spec.Name)
	if err := spec.Build(ctx, out); err != nil {
		return "", fmt.Errorf("image %s: %w", spec.Name, err)
	}
	binary, err := os.ReadFile(out)
	if err != nil {
		return "", fmt.Errorf("image %s: read the built binary: %w", spec.Name, err)
	}
	key := spec.Key
	if key == "" {
		sum := sha256.Sum256(binary)
		key = "sha256:" + hex.EncodeToString(sum[:])
		if ok, err := b.exists(ctx, tagOf(key)); err != nil {
			return "", fmt.Errorf("image %s: %w", spec.Name, err)
		} else if ok {
			return tagOf(key), nil
		}
	}
	tag := tagOf(key)
	if err := b.build(ctx, tag, dockerfile, spec.Name, binary); err != nil {
		return "", fmt.Errorf("image %s: %w", tag, err)
	}
	b.logf("built %s in %v", tag, time.Since(start).Round(100*time.Millisecond))
	return tag, nil
}

// BinariesImage returns the tag of the base image plus every spec's
// executable at its InstallPath, as faultline/<name>:<hash>. The tag
// hashes the base tag, the Dockerfile and every spec's Key; a spec without
// a Key (a binary of unknown inputs, such as a user's own build) is built
// first and keyed by its bytes. With every Key known and the tag present,
// nothing is built.
func (b *Builder) BinariesImage(ctx context.Context, name string, specs []targets.BinarySpec) (string, error) {
	if len(specs) == 0 {
		return "", fmt.Errorf("image %s: no binaries", name)
	}
	base, err := b.BaseImage(ctx)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "faultline-bins-")
	if err != nil {
		return "", fmt.Errorf("image %s: %w", name, err)
	}
	defer os.RemoveAll(dir)
	var dockerfile strings.Builder
	fmt.Fprintf(&dockerfile, "FROM %s\n", base)
	keys := make([]string, len(specs))
	built := make([][]byte, len(specs))
	paths := map[string]bool{}
	for i, spec := range specs {
		if err := spec.Validate(); err != nil {
			return "", err
		}
		if paths[spec.InstallPath()] {
			return "", fmt.Errorf("image %s: two binaries at %s", name, spec.InstallPath())
		}
		paths[spec.InstallPath()] = true
		fmt.Fprintf(&dockerfile, "COPY bin%d %s\n", i, spec.InstallPath())
		keys[i] = spec.Key
		if spec.Key == "" {
			if built[i], err = b.buildBinary(ctx, dir, i, spec); err != nil {
				return "", err
			}
			sum := sha256.Sum256(built[i])
			keys[i] = "sha256:" + hex.EncodeToString(sum[:])
		}
	}
	sum := sha256.Sum256([]byte(base + "\x00" + dockerfile.String() + "\x00" + strings.Join(keys, "\x00")))
	tag := fmt.Sprintf("faultline/%s:%s", name, hex.EncodeToString(sum[:])[:12])
	if ok, err := b.exists(ctx, tag); err != nil {
		return "", fmt.Errorf("image %s: %w", name, err)
	} else if ok {
		return tag, nil
	}
	start := time.Now()
	var files []contextFile
	for i, spec := range specs {
		if built[i] == nil {
			if built[i], err = b.buildBinary(ctx, dir, i, spec); err != nil {
				return "", err
			}
		}
		files = append(files, contextFile{fmt.Sprintf("bin%d", i), built[i]})
	}
	buildCtx, err := buildContextOf(dockerfile.String(), files)
	if err != nil {
		return "", err
	}
	if err := b.buildFrom(ctx, tag, buildCtx); err != nil {
		return "", fmt.Errorf("image %s: %w", tag, err)
	}
	b.logf("built %s in %v", tag, time.Since(start).Round(100*time.Millisecond))
	return tag, nil
}

// buildBinary runs spec's Build into dir and reads the executable back.
func (b *Builder) buildBinary(ctx context.Context, dir string, i int, spec targets.BinarySpec) ([]byte, error) {
	out := filepath.Join(dir, fmt.Sprintf("bin%d", i))
	b.logf("building %s for %s", spec.Name, spec.InstallPath())
	if err := spec.Build(ctx, out); err != nil {
		return nil, fmt.Errorf("image %s: %w", spec.Name, err)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("image %s: read the built binary: %w", spec.Name, err)
	}
	return bin, nil
}

// build runs ImageBuild with the classic builder (the engine's BuildKit
// needs a session the SDK alone does not provide).
func (b *Builder) build(ctx context.Context, tag, dockerfile, name string, binary []byte) error {
	buildCtx, err := buildContext(dockerfile, name, binary)
	if err != nil {
		return err
	}
	return b.buildFrom(ctx, tag, buildCtx)
}

// buildFrom runs ImageBuild on an in-memory build context.
func (b *Builder) buildFrom(ctx context.Context, tag string, buildCtx io.Reader) error {
	resp, err := b.cli.ImageBuild(ctx, buildCtx, build.ImageBuildOptions{
		Tags:        []string{tag},
		Dockerfile:  "Dockerfile",
		Remove:      true,
		ForceRemove: true,
		Version:     build.BuilderV1,
	})
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	defer resp.Body.Close()
	if err := readProgress(resp.Body); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	return nil
}

// exists reports whether the engine has an image tagged tag.
func (b *Builder) exists(ctx context.Context, tag string) (bool, error) {
	_, err := b.cli.ImageInspect(ctx, tag)
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("inspect image %s: %w", tag, err)
	}
}

// readProgress drains the JSON message stream of an import or a build and
// returns the error the engine reported in it, if any. The engine reports
// a failed build only this way; the HTTP status is 200.
func readProgress(r io.Reader) error {
	dec := json.NewDecoder(r)
	var lastLines []string
	for {
		var msg struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read progress: %w", err)
		}
		if s := strings.TrimSpace(msg.Stream); s != "" {
			lastLines = append(lastLines, s)
			if len(lastLines) > 10 {
				lastLines = lastLines[1:]
			}
		}
		if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
			msg.Error = msg.ErrorDetail.Message
		}
		if msg.Error != "" {
			return fmt.Errorf("%s\n%s", msg.Error, strings.Join(lastLines, "\n"))
		}
	}
}
