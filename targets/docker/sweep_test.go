package docker

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/stretchr/testify/require"
)

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

func TestOwnerAlive(t *testing.T) {
	host, err := os.Hostname()
	require.NoError(t, err)
	mine := OwnerLabels("r1")
	require.True(t, ownerAlive(mine, host), "this process is alive")

	dead := OwnerLabels("r1")
	dead[LabelPID] = strconv.Itoa(deadPID(t))
	dead[LabelPIDStart] = ""
	require.False(t, ownerAlive(dead, host), "an exited process is dead")

	recycled := OwnerLabels("r1")
	recycled[LabelPIDStart] = "1"
	require.False(t, ownerAlive(recycled, host), "a live pid with another start time is a recycled pid")

	elsewhere := OwnerLabels("r1")
	elsewhere[LabelHost] = host + "-other"
	elsewhere[LabelPID] = strconv.Itoa(deadPID(t))
	require.True(t, ownerAlive(elsewhere, host), "another host's run is not ours to judge")

	require.False(t, ownerAlive(map[string]string{LabelRun: "r1", LabelHost: host}, host), "no pid names no owner")
	require.False(t, ownerAlive(map[string]string{LabelRun: "r1", LabelPID: "x"}, host))
}

func TestProcessStart(t *testing.T) {
	require.NotEmpty(t, processStart(os.Getpid()))
	require.Equal(t, processStart(os.Getpid()), processStart(os.Getpid()))
	require.Empty(t, processStart(deadPID(t)))
}

// TestSweep creates a container and a network labelled with a dead
// harness pid and a container labelled with this (live) process, and
// checks that Sweep(onlyDeadPIDs) removes exactly the dead run's. It needs
// a Docker engine and fails without one.
func TestSweep(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cli, err := Connect(ctx)
	require.NoError(t, err, "this test needs a running Docker engine")
	defer cli.Close()
	b := NewBuilder(cli)
	b.Logf = t.Logf
	base, err := b.BaseImage(ctx)
	require.NoError(t, err)

	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	deadLabels := OwnerLabels("sweep-dead-" + suffix)
	deadLabels[LabelPID] = strconv.Itoa(deadPID(t))
	deadLabels[LabelPIDStart] = ""
	liveLabels := OwnerLabels("sweep-live-" + suffix)

	create := func(name string, labels map[string]string) string {
		resp, err := cli.ContainerCreate(ctx,
			&container.Config{Image: base, Cmd: []string{"sleep", "infinity"}, Labels: labels},
			&container.HostConfig{NetworkMode: "none"}, nil, nil, name)
		require.NoError(t, err)
		t.Cleanup(func() {
			_ = cli.ContainerRemove(context.Background(), resp.ID, container.RemoveOptions{Force: true})
		})
		require.NoError(t, cli.ContainerStart(ctx, resp.ID, container.StartOptions{}))
		return resp.ID
	}
	deadName := "faultline-sweep-dead-" + suffix
	liveName := "faultline-sweep-live-" + suffix
	create(deadName, deadLabels)
	liveID := create(liveName, liveLabels)
	netName := "faultline-sweep-dead-" + suffix
	_, err = cli.NetworkCreate(ctx, netName, network.CreateOptions{Driver: "bridge", Internal: true, Labels: deadLabels})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.NetworkRemove(context.Background(), netName) })

	report, err := Sweep(ctx, cli, true)
	require.NoError(t, err)
	t.Logf("swept %+v", report)
	// Other test binaries and runs may sweep concurrently and remove the
	// dead run's resources first, so judge the state, not the report.
	require.NotContains(t, report.Containers, liveName)

	_, err = cli.ContainerInspect(ctx, deadName)
	require.Error(t, err, "the dead run's container is gone")
	live, err := cli.ContainerInspect(ctx, liveID)
	require.NoError(t, err, "the live run's container stays")
	require.True(t, live.State.Running)
	nets, err := cli.NetworkList(ctx, network.ListOptions{})
	require.NoError(t, err)
	require.False(t, slices.ContainsFunc(nets, func(n network.Summary) bool { return n.Name == netName }))

	require.NoError(t, cli.ContainerRemove(ctx, liveID, container.RemoveOptions{Force: true}))
}
