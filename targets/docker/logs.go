package docker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/faultline/faultline/harness"
)

// CopyLogs copies every node's DB log to dir/nodes/<node>/<file>, e.g.
// store/.../nodes/n1/etcd.log. A node whose log does not exist (its
// process never started, or its container is gone) is skipped; other failures are joined and
// returned after every node was tried. Like Teardown, it works after ctx
// was cancelled, within its own 30 s budget.
func (c *Cluster) CopyLogs(ctx context.Context, dir string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := c.eachNode(func(n harness.Node) error {
		return c.copyLog(ctx, n, filepath.Join(dir, "nodes", n.Name))
	})
	if err != nil {
		return fmt.Errorf("copy logs: %w", err)
	}
	return nil
}

// copyLog extracts the target's log file from n's container into dir.
// CopyFromContainer returns a tar stream even for one file.
func (c *Cluster) copyLog(ctx context.Context, n harness.Node, dir string) error {
	rc, _, err := c.cli.CopyFromContainer(ctx, c.containerName(n), c.cfg.Target.LogPath())
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("%s: %w", n.Name, err)
	}
	defer rc.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: %w", n.Name, err)
	}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: read log archive: %w", n.Name, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		// Keep only the base name: the archive's paths come from the
		// container and must not choose where files land.
		dst := filepath.Join(dir, path.Base(hdr.Name))
		if err := writeFile(dst, tr); err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
	}
}

func writeFile(dst string, r io.Reader) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return f.Close()
}

// logTail returns the last lines of n's DB log, or a note saying why it
// could not be read. It is meant for error messages.
func (c *Cluster) logTail(ctx context.Context, n harness.Node, lines int) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	out, err := c.Exec(ctx, n, "tail", "-n", strconv.Itoa(lines), c.cfg.Target.LogPath())
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return out
}

// logTails renders the last lines of every node's DB log, one section per
// node.
func (c *Cluster) logTails(ctx context.Context, lines int) string {
	var b strings.Builder
	for _, n := range c.nodes {
		fmt.Fprintf(&b, "--- %s %s (last %d lines) ---\n%s\n", n.Name, c.cfg.Target.LogPath(), lines, strings.TrimRight(c.logTail(ctx, n, lines), "\n"))
	}
	return b.String()
}
