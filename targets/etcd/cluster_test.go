package etcd_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/docker"
	"github.com/faultline/faultline/targets/etcd"
)

// TestClusterEndToEnd runs a real 3-node etcd cluster in Docker and puts
// every fault the nemeses use through it: an iptables isolation, a kill
// and restart, a pause. It needs a Docker engine and fails without one.
func TestClusterEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cli, err := docker.Connect(ctx)
	require.NoError(t, err, "this test needs a running Docker engine")
	defer cli.Close()

	b := docker.NewBuilder(cli)
	b.Logf = t.Logf
	start := time.Now()
	image, err := etcd.Target{}.Image(ctx, b)
	require.NoError(t, err)
	t.Logf("image %s ready in %v", image, time.Since(start).Round(time.Millisecond))

	runID := "test-" + randomHex(4)
	start = time.Now()
	c, err := docker.NewCluster(ctx, cli, docker.ClusterConfig{RunID: runID, Target: etcd.Target{}, Image: image, Nodes: 3, Logf: t.Logf})
	require.NoError(t, err)
	tornDown := false
	defer func() {
		if !tornDown {
			_ = c.Teardown(ctx)
		}
	}()
	created := time.Now()
	require.NoError(t, c.WaitHealthy(ctx, 60*time.Second))
	t.Logf("time to healthy: %v after the containers were up, %v after NewCluster was called",
		time.Since(created).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	nodes := c.Nodes()
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	leader, err := c.Leader(ctx)
	require.NoError(t, err)
	t.Logf("leader: %s", leader.Name)

	// A pinned client writes and reads.
	kv1 := pinned(t, n1)
	_, err = kv1.Put(ctx, "k", "v1")
	require.NoError(t, err)
	got, err := kv1.Get(ctx, "k")
	require.NoError(t, err)
	require.Len(t, got.Kvs, 1)
	require.Equal(t, "v1", string(got.Kvs[0].Value))

	t.Run("isolate n3", func(t *testing.T) {
		start := time.Now()
		grudge := map[string][]string{n1.Name: {n3.IP}, n2.Name: {n3.IP}, n3.Name: {n1.IP, n2.IP}}
		onEach(t, c, func(n harness.Node) error {
			_, err := c.Exec(ctx, n, "sh", "-c", isolateScript(grudge[n.Name]))
			return err
		})
		t.Logf("iptables isolation of n3 applied in %v", time.Since(start).Round(time.Millisecond))
		out, err := c.Exec(ctx, n3, "iptables", "-w", "-L", "FAULTLINE", "-n")
		require.NoError(t, err)
		require.Contains(t, out, n1.IP)

		// The minority cannot serve a linearizable read.
		kv3 := pinned(t, n3)
		readCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, err = kv3.Get(readCtx, "k")
		cancel()
		require.Error(t, err, "a linearizable read on isolated n3 must fail")
		t.Logf("read on n3 while isolated: %v", err)

		// The majority serves, after an election if n3 led.
		elapsed := eventually(t, ctx, 10*time.Second, func(ctx context.Context) error {
			_, err := kv1.Get(ctx, "k")
			return err
		})
		t.Logf("n1 serving %v into the partition", elapsed.Round(time.Millisecond))
		leader, err := c.Leader(ctx)
		require.NoError(t, err)
		require.NotEqual(t, n3.Name, leader.Name, "the isolated node cannot lead the majority")

		start = time.Now()
		onEach(t, c, func(n harness.Node) error {
			_, err := c.Exec(ctx, n, "iptables", "-w", "-F", "FAULTLINE")
			return err
		})
		eventually(t, ctx, 60*time.Second, func(ctx context.Context) error {
			_, err := kv3.Get(ctx, "k")
			return err
		})
		t.Logf("heal: n3 serving again %v after the flush began", time.Since(start).Round(time.Millisecond))
	})

	t.Run("kill and restart n2", func(t *testing.T) {
		require.NoError(t, c.Kill(ctx, n2))
		running, err := c.Running(ctx, n2)
		require.NoError(t, err)
		require.False(t, running)
		require.NoError(t, c.Kill(ctx, n2), "killing a dead process is no error")

		err = c.WaitHealthy(ctx, 1500*time.Millisecond)
		require.Error(t, err)
		require.Contains(t, err.Error(), "--- n2 /var/log/etcd.log", "the timeout error carries the node logs")

		start := time.Now()
		require.NoError(t, c.Start(ctx, n2))
		require.NoError(t, c.Start(ctx, n2), "starting a running process is a no-op")
		kv2 := pinned(t, n2)
		eventually(t, ctx, 30*time.Second, func(ctx context.Context) error {
			_, err := kv2.Get(ctx, "k")
			return err
		})
		t.Logf("n2 serving %v after Start was called", time.Since(start).Round(time.Millisecond))
		out, err := c.Exec(ctx, n2, "pgrep", "-c", "-x", "etcd")
		require.NoError(t, err)
		require.Equal(t, "1", strings.TrimSpace(out), "exactly one etcd process")
	})

	t.Run("pause and resume n1", func(t *testing.T) {
		require.NoError(t, c.Pause(ctx, n1))
		readCtx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := kv1.Get(readCtx, "k")
		cancel()
		require.Error(t, err, "a paused node cannot answer")
		require.NoError(t, c.Resume(ctx, n1))
		elapsed := eventually(t, ctx, 30*time.Second, func(ctx context.Context) error {
			_, err := kv1.Get(ctx, "k")
			return err
		})
		t.Logf("n1 serving %v after the resume", elapsed.Round(time.Millisecond))
	})

	dir := t.TempDir()
	require.NoError(t, c.CopyLogs(ctx, dir))
	for _, n := range nodes {
		fi, err := os.Stat(filepath.Join(dir, "nodes", n.Name, "etcd.log"))
		require.NoError(t, err)
		require.NotZero(t, fi.Size())
	}

	// Teardown works after the caller's context is gone, and twice.
	cancelled, cancelNow := context.WithCancel(ctx)
	cancelNow()
	require.NoError(t, c.Teardown(cancelled))
	require.NoError(t, c.Teardown(cancelled))
	tornDown = true
	requireNothingLeft(t, cli, runID)
}

// pinned opens a client pinned to n, closed when the test ends.
func pinned(t *testing.T, n harness.Node) *clientv3.Client {
	t.Helper()
	cli, err := targets.OpenClient(context.Background(), []string{n.Endpoint}, targets.ClientOpts{})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return cli
}

// isolateScript drops every packet from sources in the FAULTLINE chain,
// the way the partition nemesis does.
func isolateScript(sources []string) string {
	s := "iptables -w -N FAULTLINE 2>/dev/null; " +
		"iptables -w -C INPUT -j FAULTLINE 2>/dev/null || iptables -w -I INPUT -j FAULTLINE || exit 1; " +
		"iptables -w -F FAULTLINE || exit 1"
	for _, ip := range sources {
		s += fmt.Sprintf("; iptables -w -A FAULTLINE -s %s -j DROP || exit 1", ip)
	}
	return s
}

// onEach runs f on every node at once and fails the test on any error.
func onEach(t *testing.T, c *docker.Cluster, f func(harness.Node) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(c.Nodes()))
	for i, n := range c.Nodes() {
		wg.Go(func() { errs[i] = f(n) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

// eventually retries f (each try bounded by 1 s) until it succeeds and
// returns how long that took; it fails the test after limit.
func eventually(t *testing.T, ctx context.Context, limit time.Duration, f func(context.Context) error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < limit {
		tryCtx, cancel := context.WithTimeout(ctx, time.Second)
		err = f(tryCtx)
		cancel()
		if err == nil {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("still failing after %v: %v", limit, err)
	return 0
}

// requireNothingLeft asserts that no container or network of the run
// remains.
func requireNothingLeft(t *testing.T, cli client.APIClient, runID string) {
	t.Helper()
	ctx := context.Background()
	byRun := filters.NewArgs(filters.Arg("label", docker.LabelRun+"="+runID))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: byRun})
	require.NoError(t, err)
	require.Empty(t, cs, "containers of run %s remain", runID)
	ns, err := cli.NetworkList(ctx, network.ListOptions{Filters: byRun})
	require.NoError(t, err)
	require.Empty(t, ns, "networks of run %s remain", runID)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
