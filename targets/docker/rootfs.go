package docker

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// DefaultMirror is the Debian mirror used when the host's apt sources name
// none for the base image's suite.
const DefaultMirror = "http://deb.debian.org/debian"

// baseRecipe is everything that decides the base image's contents. Its
// hash is the image's tag, so a change here builds a new base image while
// the old one stays valid for whoever still uses it. The mirror is not part
// of it: every mirror serves the same packages.
type baseRecipe struct {
	Suite    string   `json:"suite"`
	Variant  string   `json:"variant"`
	Packages []string `json:"packages"`
	// Iptables is the alternative /usr/sbin/iptables points to: "legacy"
	// (x_tables) or "nft" (nf_tables, Debian's default). The kernel
	// decides which one works; see NewBuilder.
	Iptables string `json:"iptables"`
}

// defaultRecipe is the base image of every target.
var defaultRecipe = baseRecipe{
	Suite:    "bookworm",
	Variant:  "minbase",
	Packages: []string{"iptables", "iproute2", "procps"},
	Iptables: "legacy",
}

// tag is the base image's tag: faultline/base:<first 12 hex of the
// recipe's hash>.
func (r baseRecipe) tag() string {
	b, _ := json.Marshal(r) // a struct of strings always marshals
	sum := sha256.Sum256(b)
	return "faultline/base:" + hex.EncodeToString(sum[:])[:12]
}

// debootstrap builds the recipe's root filesystem into dir from mirror.
// Its output is returned inside the error when it fails.
func (r baseRecipe) debootstrap(ctx context.Context, dir, mirror string) error {
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return errors.New("debootstrap is missing: install debootstrap (apt-get install debootstrap) or run make images")
	}
	args := []string{
		"--variant=" + r.Variant,
		"--include=" + strings.Join(r.Packages, ","),
		r.Suite, dir, mirror,
	}
	out, err := exec.CommandContext(ctx, "debootstrap", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("debootstrap %s: %w\n%s", strings.Join(args, " "), err, tail(string(out), 30))
	}
	if r.Iptables == "" {
		return nil
	}
	for _, cmd := range []string{"iptables", "ip6tables"} {
		alt := fmt.Sprintf("/usr/sbin/%s-%s", cmd, r.Iptables)
		out, err := exec.CommandContext(ctx, "chroot", dir, "update-alternatives", "--set", cmd, alt).CombinedOutput()
		if err != nil {
			return fmt.Errorf("select %s in the rootfs: %w\n%s", alt, err, out)
		}
	}
	return nil
}

// removeRootfs deletes a debootstrap directory. debootstrap mounts /proc
// and /sys inside the target while it works; if it was interrupted they
// may still be mounted, and deleting through them would touch the host.
// So mounts under dir are detached first, and nothing is deleted if one
// cannot be.
func removeRootfs(dir string) error {
	mounts, err := mountsUnder(dir)
	if err != nil {
		return fmt.Errorf("remove rootfs %s: %w", dir, err)
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := syscall.Unmount(mounts[i], syscall.MNT_DETACH); err != nil {
			return fmt.Errorf("remove rootfs: unmount %s (left in place): %w", mounts[i], err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove rootfs %s: %w", dir, err)
	}
	return nil
}

// mountsUnder lists the mount points at or below dir, parents first.
func mountsUnder(dir string) ([]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	dir = filepath.Clean(dir)
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountPath(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out, nil
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%o", &c); err == nil {
				b.WriteByte(byte(c))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// lockFile takes an exclusive flock on path, creating it, so that two
// harness processes on one host do not debootstrap at the same time. The
// returned function releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	done := make(chan error, 1)
	go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return func() { f.Close() }, nil
	case <-ctx.Done():
		// Closing the file does not interrupt flock; the goroutine ends
		// when the other holder releases, and the lock dies with f.
		go func() { <-done; f.Close() }()
		return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
