package kvnode_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/faultline/faultline/kvnode"
)

// Timings for in-process clusters: fast enough to keep tests short, slow
// enough that a loaded 2-core machine under -race does not see spurious
// elections.
const (
	testHeartbeat = 50 * time.Millisecond
	testElection  = 500 * time.Millisecond
)

// syncBuffer collects the logs of all nodes of a test; they are printed only
// when the test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestLogger(w *syncBuffer) *zap.Logger {
	enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), zap.InfoLevel))
}

// testCluster is n kvnodes on loopback, each with its own data directory.
type testCluster struct {
	t       *testing.T
	logs    *syncBuffer
	cfgs    []kvnode.Config
	servers []*kvnode.Server // nil while a node is stopped
}

// freePort reserves an ephemeral loopback port. Another process could take
// it before the node binds it; on a test machine that is rare enough.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newTestCluster plans n nodes; tune may adjust each config before start.
func newTestCluster(t *testing.T, n int, tune func(*kvnode.Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, logs: &syncBuffer{}, servers: make([]*kvnode.Server, n)}
	var initial []string
	for i := range n {
		cfg := kvnode.DefaultConfig()
		cfg.Name = fmt.Sprintf("n%d", i+1)
		cfg.DataDir = t.TempDir()
		clientURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		peerURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		cfg.ListenClientURLs, cfg.AdvertiseClientURLs = []string{clientURL}, []string{clientURL}
		cfg.ListenPeerURLs, cfg.InitialAdvertisePeerURLs = []string{peerURL}, []string{peerURL}
		cfg.InitialClusterToken = "test-" + t.Name()
		cfg.HeartbeatInterval, cfg.ElectionTimeout = testHeartbeat, testElection
		cfg.SnapshotCount = 20
		cfg.Logger = newTestLogger(c.logs).With(zap.String("node", cfg.Name))
		initial = append(initial, cfg.Name+"="+peerURL)
		c.cfgs = append(c.cfgs, cfg)
	}
	for i := range c.cfgs {
		c.cfgs[i].InitialCluster = strings.Join(initial, ",")
		if tune != nil {
			tune(&c.cfgs[i])
		}
	}
	t.Cleanup(func() {
		for i := range c.servers {
			c.stop(i)
		}
		if t.Failed() || os.Getenv("KVNODE_TEST_LOGS") != "" {
			t.Logf("node logs:\n%s", c.logs.String())
		}
	})
	return c
}

func (c *testCluster) startAll() {
	c.t.Helper()
	for i := range c.cfgs {
		c.start(i)
	}
}

func (c *testCluster) start(i int) {
	c.t.Helper()
	require.Nil(c.t, c.servers[i], "node %d already runs", i)
	srv, err := kvnode.Start(c.cfgs[i])
	require.NoError(c.t, err, "start %s", c.cfgs[i].Name)
	c.servers[i] = srv
}

func (c *testCluster) stop(i int) {
	if c.servers[i] != nil {
		c.servers[i].Stop()
		c.servers[i] = nil
	}
}

// endpoint returns node i's client endpoint.
func (c *testCluster) endpoint(i int) string { return c.cfgs[i].AdvertiseClientURLs[0] }

// client opens a clientv3 client on the given nodes (all when none given).
func (c *testCluster) client(nodes ...int) *clientv3.Client {
	c.t.Helper()
	if len(nodes) == 0 {
		for i := range c.cfgs {
			nodes = append(nodes, i)
		}
	}
	var endpoints []string
	for _, i := range nodes {
		endpoints = append(endpoints, c.endpoint(i))
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	require.NoError(c.t, err)
	c.t.Cleanup(func() { cli.Close() })
	return cli
}

// waitLeader waits until every running node knows the same leader, itself a
// running node, and returns that node's index.
func (c *testCluster) waitLeader() int {
	c.t.Helper()
	leader := -1
	require.Eventually(c.t, func() bool {
		leader = -1
		var seen uint64
		for i, srv := range c.servers {
			if srv == nil {
				continue
			}
			l := srv.Leader()
			if l == 0 || (seen != 0 && l != seen) {
				return false
			}
			seen = l
			if srv.MemberID() == l {
				leader = i
			}
		}
		return leader >= 0
	}, 15*time.Second, 20*time.Millisecond, "no stable leader")
	return leader
}

// ctx returns a context for one client call.
func (c *testCluster) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	c.t.Cleanup(cancel)
	return ctx
}
