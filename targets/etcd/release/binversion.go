package release

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// BinaryVersion runs the etcd binary bin with --version and returns what it
// printed, trimmed ("etcd Version: 3.5.2\nGit SHA: ...\nGo Version: ...").
// faultline records it with a test's results.
func BinaryVersion(ctx context.Context, bin string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--version")
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s --version: %w\n%s", bin, err, strings.TrimSpace(out.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// ServerVersion picks the release out of BinaryVersion's output: "3.5.2"
// from its "etcd Version: 3.5.2" line.
func ServerVersion(output string) (string, error) {
	for line := range strings.Lines(output) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "etcd Version:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no \"etcd Version:\" line in %q", output)
}
