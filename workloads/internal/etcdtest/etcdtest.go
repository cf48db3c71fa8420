// Package etcdtest runs the workloads' clients against a real etcd server
// embedded in the test process: real gRPC, real leases and watches, no
// Docker. Start brings one up; Run drives a whole workload through the
// harness runner against it, final ops included.
package etcdtest

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/faultline/faultline/harness"
)

// Server is an embedded single-node etcd.
type Server struct {
	// Endpoint is its client URL.
	Endpoint string
	// Stop stops it; it is idempotent and also registered as cleanup.
	Stop func()
}

// Start runs a single-node etcd on free local ports until the test ends,
// its configuration changed by each of tune (a short progress notify
// interval, say). Tests that call it are skipped under -short.
func Start(t *testing.T, tune ...func(*embed.Config)) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts an embedded etcd")
	}
	cfg := embed.NewConfig()
	cfg.Dir = t.TempDir()
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	client, peer := freeURL(t), freeURL(t)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	for _, f := range tune {
		f(cfg)
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("start embedded etcd: %v", err)
	}
	stop := sync.OnceFunc(e.Close)
	t.Cleanup(stop)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatal("embedded etcd not ready after 30s")
	}
	return &Server{Endpoint: "http://" + e.Clients[0].Addr().String(), Stop: stop}
}

func freeURL(t *testing.T) url.URL {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}
}

// Dial opens a clientv3 client to s; the caller closes it (or hands it to
// a workload client that does).
func (s *Server) Dial(t *testing.T) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("dial %s: %v", s.Endpoint, err)
	}
	return cli
}

// cluster is a harness.Cluster of n nodes that all are the one embedded
// server: faults are not its business.
type cluster struct{ nodes []harness.Node }

func (c cluster) Nodes() []harness.Node { return c.nodes }
func (c cluster) Exec(context.Context, harness.Node, ...string) (string, error) {
	return "", errors.New("etcdtest: no exec")
}
func (c cluster) Kill(context.Context, harness.Node) error  { return nil }
func (c cluster) Start(context.Context, harness.Node) error { return nil }
func (c cluster) Leader(context.Context) (harness.Node, error) {
	return c.nodes[0], nil
}

// ClientMaker is a workload that builds its own clients.
type ClientMaker interface {
	NewClient(cli *clientv3.Client, node string) (harness.Client, error)
}

// RunOptions shape a Run.
type RunOptions struct {
	// Nodes is how many node names (n1..) the fake cluster lists; each is
	// the same server. Default 3.
	Nodes int
	// Concurrency is the number of client threads; default 4.
	Concurrency int
	// TimeLimit bounds the workload phase; default 2 s.
	TimeLimit time.Duration
	// Rate is invocations per second; default 0, unlimited.
	Rate float64
	// Seed seeds the generator; default 1.
	Seed int64
}

// Run drives w against s through harness.Run, with its final ops if it is
// a harness.Finisher, and returns the validated history.
func (s *Server) Run(t *testing.T, w harness.Workload, opts RunOptions) harness.History {
	t.Helper()
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 4
	}
	if opts.TimeLimit == 0 {
		opts.TimeLimit = 2 * time.Second
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	maker, ok := w.(ClientMaker)
	if !ok {
		t.Fatalf("workload %s makes no clients", w.Name())
	}
	var c cluster
	for i := range opts.Nodes {
		c.nodes = append(c.nodes, harness.Node{Name: "n" + strconv.Itoa(i+1), Endpoint: s.Endpoint})
	}
	cfg := harness.RunConfig{
		Cluster: c, Concurrency: opts.Concurrency, Rate: opts.Rate, TimeLimit: opts.TimeLimit,
		OpTimeout: 5 * time.Second, Seed: opts.Seed, Generator: w.Generator(),
		OpenClient: func(ctx context.Context, n harness.Node) (harness.Client, error) {
			cli, err := clientv3.New(clientv3.Config{Endpoints: []string{n.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
			if err != nil {
				return nil, err
			}
			hc, err := maker.NewClient(cli, n.Name)
			if err != nil {
				cli.Close()
				return nil, err
			}
			return hc, nil
		},
		Recorder: harness.NewMemoryRecorder(),
	}
	if f, ok := w.(harness.Finisher); ok {
		cfg.FinalOps = f.FinalOps(c.nodes)
	}
	h, err := harness.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("run %s: %v", w.Name(), err)
	}
	if err := h.Validate(); err != nil {
		t.Fatalf("run %s: malformed history: %v", w.Name(), err)
	}
	return h
}
