package release

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// goCommand runs the go command in dir with the extra environment
// variables env and returns its standard output. A failure's error holds
// the command line and what the command printed. Workspaces are off: a go.work
// above dir must not change what a build module resolves to.
func goCommand(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	if _, err := exec.LookPath("go"); err != nil {
		return nil, fmt.Errorf("the go command is not on PATH; it resolves and builds etcd releases")
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=on")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		// Tools run with go tool (gofail) report on standard output.
		said := firstLines(strings.TrimSpace(stderr.String()+"\n"+stdout.String()), maxErrorLines)
		return stdout.Bytes(), fmt.Errorf("go %s in %s: %w\n%s", strings.Join(args, " "), dir, err, said)
	}
	return stdout.Bytes(), nil
}

// maxErrorLines bounds what of the go command's output an error quotes:
// go mod tidy repeats a missing module once for every package it imports.
const maxErrorLines = 12

// firstLines returns the first n lines of s, and how many it left out.
func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) <= n {
		return s
	}
	return fmt.Sprintf("%s\n... (%d more lines)", strings.Join(lines[:n], "\n"), len(lines)-n)
}
