package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/faultline/faultline/harness"
)

// machineTimeout bounds a crash or a reboot of one container. The engine
// kills and starts a container in well under a second when it is idle; a
// shared engine under heavy load (a load average of 40 on 2 cores) was
// seen to take over 20 s to start one.
const machineTimeout = 60 * time.Second

var _ harness.Crasher = (*Cluster)(nil)

// Crash kills node n's whole container with SIGKILL, as a machine that
// loses power: the DB process, the init and the network namespace go at
// once. The container's filesystem, and so the DB's data directory,
// survives. It is not a power loss, though: the host's page cache
// survives too, so writes the DB never fsynced are not lost.
//
// Crash returns once the engine reports the container stopped. Crashing a
// stopped container is no error.
func (c *Cluster) Crash(ctx context.Context, n harness.Node) error {
	n, err := c.node(n)
	if err != nil {
		return err
	}
	unlock := c.lockNode(n)
	defer unlock()
	c.expectStop(n)
	ctx, cancel := context.WithTimeout(ctx, machineTimeout)
	defer cancel()
	running, err := c.containerRunning(ctx, n)
	if err != nil {
		return fmt.Errorf("crash %s: %w", n.Name, err)
	}
	if running {
		if err := c.cli.ContainerKill(ctx, c.containerName(n), "KILL"); err != nil {
			return fmt.Errorf("crash %s: %w", n.Name, err)
		}
	}
	if err := c.waitContainer(ctx, n, false); err != nil {
		return fmt.Errorf("crash %s: %w", n.Name, err)
	}
	return nil
}

// Reboot starts n's container again after a Crash and returns once it
// runs and takes execs. The engine gives it back its fixed address, but
// its network namespace is new: the iptables chain and any qdisc are
// gone, and no DB process runs. Rebooting a running container is no error
// and changes nothing.
func (c *Cluster) Reboot(ctx context.Context, n harness.Node) error {
	n, err := c.node(n)
	if err != nil {
		return err
	}
	unlock := c.lockNode(n)
	defer unlock()
	ctx, cancel := context.WithTimeout(ctx, machineTimeout)
	defer cancel()
	running, err := c.containerRunning(ctx, n)
	if err != nil {
		return fmt.Errorf("reboot %s: %w", n.Name, err)
	}
	if !running {
		if err := c.cli.ContainerStart(ctx, c.containerName(n), container.StartOptions{}); err != nil {
			return fmt.Errorf("reboot %s: %w", n.Name, err)
		}
	}
	if err := c.waitContainer(ctx, n, true); err != nil {
		return fmt.Errorf("reboot %s: %w", n.Name, err)
	}
	// The engine reports a container running before an exec into it is
	// certain to work; one trivial exec proves the machine is up.
	for {
		if _, err := c.Exec(ctx, n, "true"); err == nil {
			return nil
		} else if ctx.Err() != nil {
			return fmt.Errorf("reboot %s: no exec works: %w", n.Name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// containerRunning reports whether the engine runs n's container.
func (c *Cluster) containerRunning(ctx context.Context, n harness.Node) (bool, error) {
	info, err := c.cli.ContainerInspect(ctx, c.containerName(n))
	if err != nil {
		return false, fmt.Errorf("inspect %s: %w", n.Name, err)
	}
	return info.State != nil && info.State.Running, nil
}

// waitContainer polls until n's container runs (running true) or has
// stopped (false), or ctx ends.
func (c *Cluster) waitContainer(ctx context.Context, n harness.Node, running bool) error {
	for {
		is, err := c.containerRunning(ctx, n)
		if err != nil {
			return err
		}
		if is == running {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container still running=%v: %w", is, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
