package targets

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// ModulePath is the import path of the faultline module. Binaries are built
// inside it so that their dependencies are the versions its go.mod pins.
const ModulePath = "github.com/faultline/faultline"

// ModuleRoot finds the faultline module's root directory by walking up from
// the working directory. faultline builds its target binaries from source,
// so it has to run inside its own source tree (as `make jepsen` and
// `go test` do).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && modulePathOf(b) == ModulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("module root: no go.mod of %s above the working directory; run faultline from its source tree", ModulePath)
		}
		dir = parent
	}
}

// modulePathOf returns the path on the module line of a go.mod file.
func modulePathOf(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`)
		}
	}
	return ""
}

// RequiredModule returns the go.sum line of module path's source tree
// ("<path> <version> h1:<hash>") in the module at root. It identifies the
// exact source of a dependency such as etcd's server, so it is a good image
// Key for a binary built from it.
func RequiredModule(root, path string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return "", fmt.Errorf("required module %s: %w", path, err)
	}
	line, ok := goSumLine(b, path)
	if !ok {
		return "", fmt.Errorf("required module %s: not in %s/go.sum; run go get %s@<version>", path, root, path)
	}
	return line, nil
}

// goSumLine finds the source-tree line of path in go.sum contents. A module
// is required at one version, so the first such line is the one.
func goSumLine(gosum []byte, path string) (string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(gosum))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == path && !strings.HasSuffix(fields[1], "/go.mod") {
			return strings.Join(fields, " "), true
		}
	}
	return "", false
}

// GoBuild returns a BinarySpec.Build function that compiles the Go package
// pkg statically (CGO_ENABLED=0) inside the module at root, so the binary
// runs on the base image whatever libc it has. The go command's own output
// is included in the error when the build fails.
func GoBuild(root, pkg string) func(ctx context.Context, out string) error {
	return func(ctx context.Context, out string) error {
		if _, err := exec.LookPath("go"); err != nil {
			return fmt.Errorf("go build %s: the go command is not on PATH; it builds the target binaries", pkg)
		}
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		output, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build %s in %s: %w\n%s", pkg, root, err, output)
		}
		return nil
	}
}

// HashTree returns a hex SHA-256 over the names and contents of the
// regular files under the given paths (files or directories, relative to
// root), in a stable order. It suits as the Key of a binary built from this
// repository: pass the program's directory together with go.mod and go.sum.
func HashTree(root string, paths ...string) (string, error) {
	var files []string
	for _, p := range paths {
		err := filepath.WalkDir(filepath.Join(root, p), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("hash tree %s: %w", p, err)
		}
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			return "", fmt.Errorf("hash tree: %w", err)
		}
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		if err := hashFile(h, f); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	n, err := io.Copy(w, f)
	if err != nil {
		return fmt.Errorf("hash %s: %w", path, err)
	}
	// Length-delimit so that moving bytes between files changes the hash.
	fmt.Fprintf(w, "\x00%d\x00", n)
	return nil
}
