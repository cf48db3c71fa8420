package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
)

var (
	_ harness.Disk     = (*Cluster)(nil)
	_ harness.Upgrader = (*Cluster)(nil)
)

// maxDataFile bounds a file ReadFile reads: etcd's WAL segments are 64 MiB.
const maxDataFile = 256 << 20

// layout returns the target's disk layout, or an error saying it has none.
func (c *Cluster) layout() (targets.DiskLayout, error) {
	dl, ok := c.cfg.Target.(targets.DiskLayout)
	if !ok || dl.DataDir() == "" {
		return nil, fmt.Errorf("target %s does not say where its durable files lie (it is no targets.DiskLayout)", c.cfg.Target.Name())
	}
	return dl, nil
}

// DataFiles lists n's durable files of kind, as the target's layout
// places them, in name order.
func (c *Cluster) DataFiles(ctx context.Context, n harness.Node, kind string) ([]string, error) {
	dl, err := c.layout()
	if err != nil {
		return nil, err
	}
	glob, ok := dl.DataFiles()[kind]
	if !ok {
		return nil, fmt.Errorf("target %s keeps no %s files", c.cfg.Target.Name(), kind)
	}
	// The glob stays unquoted for the shell to expand; a pattern that
	// matches nothing stays itself and fails the -f test.
	script := fmt.Sprintf(`for f in %s/%s; do [ -f "$f" ] && echo "$f"; done; true`, shellQuote(dl.DataDir()), glob)
	out, err := c.Exec(ctx, n, "sh", "-c", script)
	if err != nil {
		return nil, fmt.Errorf("list %s files on %s: %w", kind, n.Name, err)
	}
	return strings.Fields(out), nil
}

// ReadFile reads a file of n's container through the engine's archive
// API.
func (c *Cluster) ReadFile(ctx context.Context, n harness.Node, file string) ([]byte, error) {
	rc, _, err := c.cli.CopyFromContainer(ctx, c.containerName(n), file)
	if err != nil {
		return nil, fmt.Errorf("read %s on %s: %w", file, n.Name, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("read %s on %s: %w", file, n.Name, err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("read %s on %s: not a regular file", file, n.Name)
	}
	data, err := io.ReadAll(io.LimitReader(tr, maxDataFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s on %s: %w", file, n.Name, err)
	}
	if len(data) > maxDataFile {
		return nil, fmt.Errorf("read %s on %s: larger than %d bytes", file, n.Name, maxDataFile)
	}
	return data, nil
}

// WriteFile replaces a file of n's container, keeping its mode, through
// the engine's archive API.
func (c *Cluster) WriteFile(ctx context.Context, n harness.Node, file string, data []byte) error {
	stat, err := c.cli.ContainerStatPath(ctx, c.containerName(n), file)
	if err != nil {
		return fmt.Errorf("write %s on %s: %w", file, n.Name, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Name: path.Base(file), Mode: int64(stat.Mode.Perm()), Size: int64(len(data)), ModTime: time.Now(), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write %s on %s: %w", file, n.Name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("write %s on %s: %w", file, n.Name, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write %s on %s: %w", file, n.Name, err)
	}
	if err := c.cli.CopyToContainer(ctx, c.containerName(n), path.Dir(file), &buf, container.CopyToContainerOptions{}); err != nil {
		return fmt.Errorf("write %s on %s: %w", file, n.Name, err)
	}
	return nil
}

// StartDamaged starts n's DB process on damaged files and watches its
// exec: a process that exits was refused by the store, and the line of
// its log that says why is returned; one that serves a linearizable read
// returns "". Until one or the other, its exit is no finding.
func (c *Cluster) StartDamaged(ctx context.Context, n harness.Node, timeout time.Duration) (string, error) {
	id, err := c.start(ctx, n, startOpts{mayExit: true})
	if err != nil || id == "" {
		return "", err
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		info, err := c.cli.ContainerExecInspect(ctx, id)
		switch {
		case err != nil:
			return "", fmt.Errorf("start damaged %s: %w", n.Name, err)
		case !info.Running && info.Pid != 0:
			c.mu.Lock()
			c.reported[id] = true
			c.mu.Unlock()
			return c.whyLine(ctx, n), nil
		case info.Running && c.probe(ctx, n) == nil:
			c.mu.Lock()
			if c.dbExec[n.Name] == id {
				c.stopping[n.Name] = false // from now on an exit is a finding
			}
			c.mu.Unlock()
			return "", nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("start damaged %s: %w", n.Name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	c.mu.Lock()
	if c.dbExec[n.Name] == id {
		c.stopping[n.Name] = false
	}
	c.mu.Unlock()
	return "", nil
}

// Builds lists the builds the target's image holds, in upgrade order.
func (c *Cluster) Builds() []string {
	if v, ok := c.cfg.Target.(targets.Versioned); ok {
		return v.Builds()
	}
	return nil
}

// stopGrace is how long Stop waits after SIGTERM before it SIGKILLs.
const stopGrace = 10 * time.Second

// Stop stops the DB process on n as an operator would, SIGTERM, and
// SIGKILLs it if it still runs after stopGrace.
func (c *Cluster) Stop(ctx context.Context, n harness.Node) error {
	c.expectStop(n)
	if _, err := c.signal(ctx, n, "TERM"); err != nil {
		return fmt.Errorf("stop %s: %w", n.Name, err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, stopGrace)
	defer cancel()
	for {
		running, err := c.Running(waitCtx, n)
		if err == nil && !running {
			return nil
		}
		if waitCtx.Err() != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("stop %s: %w", n.Name, ctx.Err())
			}
			if err := c.Kill(ctx, n); err != nil {
				return errors.Join(fmt.Errorf("stop %s: still running %v after SIGTERM", n.Name, stopGrace), err)
			}
			return nil
		}
		select {
		case <-waitCtx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}
