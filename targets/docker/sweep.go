package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
)

// Labels on every container and network a run creates. They let Sweep
// tell the resources of a dead harness from those of a live one.
const (
	// LabelRun holds the run id.
	LabelRun = "faultline.run"
	// LabelPID holds the pid of the harness process that owns the run.
	LabelPID = "faultline.pid"
	// LabelPIDStart holds that process's start time (clock ticks since
	// boot, from /proc/<pid>/stat), so a recycled pid is not mistaken
	// for the owner.
	LabelPIDStart = "faultline.pidstart"
	// LabelHost holds the hostname of the machine the harness runs on.
	LabelHost = "faultline.host"
)

// OwnerLabels returns the labels that mark a resource of run runID as
// owned by this process on this host.
func OwnerLabels(runID string) map[string]string {
	host, _ := os.Hostname()
	pid := os.Getpid()
	return map[string]string{
		LabelRun:      runID,
		LabelPID:      strconv.Itoa(pid),
		LabelPIDStart: processStart(pid),
		LabelHost:     host,
	}
}

// processStart returns field 22 of /proc/<pid>/stat, the process's start
// time, or "" if the process does not exist.
func processStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces,
	// so count fields after its closing parenthesis.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(s[i+1:])
	const startField = 22 - 3 // fields 3.. follow the parenthesis
	if len(fields) <= startField {
		return ""
	}
	return fields[startField]
}

// ownerAlive reports whether the harness named by a resource's labels is
// still running. A resource of another host is taken as alive: this host
// cannot tell. Labels without a valid pid name no possible owner, so they
// are dead.
func ownerAlive(labels map[string]string, host string) bool {
	if h := labels[LabelHost]; h != "" && h != host {
		return true
	}
	pid, err := strconv.Atoi(labels[LabelPID])
	if err != nil || pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if want := labels[LabelPIDStart]; want != "" && processStart(pid) != want {
		return false
	}
	return true
}

// SweepReport names what Sweep removed.
type SweepReport struct {
	Containers []string
	Networks   []string
}

// Sweep removes the containers and networks labelled faultline.run. With
// onlyDeadPIDs it removes only those whose harness process is gone from
// this host, as every run does first, so that concurrent runs leave each
// other alone; without it, it removes all of them (`faultline clean`).
// It goes on after a failed removal and returns every failure joined.
func Sweep(ctx context.Context, cli client.APIClient, onlyDeadPIDs bool) (SweepReport, error) {
	var report SweepReport
	host, _ := os.Hostname()
	sweepable := func(labels map[string]string) bool {
		return !onlyDeadPIDs || !ownerAlive(labels, host)
	}
	byLabel := filters.NewArgs(filters.Arg("label", LabelRun))
	containers, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: byLabel})
	if err != nil {
		return report, fmt.Errorf("sweep: list containers: %w", err)
	}
	var errs []error
	for _, c := range containers {
		if !sweepable(c.Labels) {
			continue
		}
		name := c.ID[:12]
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if removedElsewhere(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", name, err))
			continue
		}
		report.Containers = append(report.Containers, name)
	}
	networks, err := cli.NetworkList(ctx, network.ListOptions{Filters: byLabel})
	if err != nil {
		errs = append(errs, fmt.Errorf("list networks: %w", err))
	}
	for _, n := range networks {
		if !sweepable(n.Labels) {
			continue
		}
		err := cli.NetworkRemove(ctx, n.ID)
		if removedElsewhere(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		report.Networks = append(report.Networks, n.Name)
	}
	if err := errors.Join(errs...); err != nil {
		return report, fmt.Errorf("sweep: %w", err)
	}
	return report, nil
}

// removedElsewhere reports whether a removal failed only because another
// process (a concurrent run's sweep, or the owner's own teardown) is
// removing the same resource or already has: the engine answers not-found,
// or a conflict such as "removal already in progress" or, for a network,
// "has active endpoints" while that process still removes its containers.
// Sweeps run concurrently by design, so this is no failure.
func removedElsewhere(err error) bool {
	return err != nil && (cerrdefs.IsNotFound(err) || cerrdefs.IsConflict(err))
}
