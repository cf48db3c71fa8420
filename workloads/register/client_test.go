package register

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/faultline/faultline/harness"
)

// startEtcd runs a single-node etcd in this process, on free local ports.
// It stands in for a container: the client under test speaks to a real
// etcd server over real gRPC. stop stops it early; it is also deferred.
func startEtcd(t *testing.T) (e *embed.Etcd, stop func()) {
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
	e, err := embed.StartEtcd(cfg)
	require.NoError(t, err)
	stop = sync.OnceFunc(e.Close) // Close may not be called twice
	t.Cleanup(stop)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatal("embedded etcd not ready after 30s")
	}
	return e, stop
}

func freeURL(t *testing.T) url.URL {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}
}

func dial(t *testing.T, endpoint string, opts ClientOptions) *Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, Logger: zap.NewNop()})
	require.NoError(t, err)
	c, err := NewClient(cli, "n1", opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func invoke(c *Client, f, key string, value any) harness.Op {
	op := harness.Op{Process: 0, Type: harness.Invoke, F: f, Key: key}
	if value != nil {
		op.Value = harness.MustValue(value)
	}
	return c.Invoke(context.Background(), op)
}

// TestClientAgainstEtcd performs each op against a real etcd and checks
// the completion and what is stored.
func TestClientAgainstEtcd(t *testing.T) {
	e, _ := startEtcd(t)
	endpoint := e.Clients[0].Addr().String()
	c := dial(t, endpoint, ClientOptions{Timeout: 5 * time.Second})

	steps := []struct {
		f     string
		value any
		typ   harness.Type
		want  string // completion value
		err   string
	}{
		{Read, nil, harness.OK, "null", ""},
		{CAS, Swap{0, 1}, harness.Fail, "[0,1]", "cas: stored value is not 0"},
		{Write, 3, harness.OK, "3", ""},
		{Read, nil, harness.OK, "3", ""},
		{CAS, Swap{1, 2}, harness.Fail, "[1,2]", "cas: stored value is not 1"},
		{CAS, Swap{3, 4}, harness.OK, "[3,4]", ""},
		{Read, nil, harness.OK, "4", ""},
		{"append", 1, harness.Fail, "1", `unknown register f "append" (want read, write or cas)`},
	}
	for i, s := range steps {
		done := invoke(c, s.f, "r0", s.value)
		require.Equal(t, s.typ, done.Type, "step %d %s: %s", i, s.f, done.Error)
		require.JSONEq(t, s.want, string(done.Value), "step %d", i)
		require.Equal(t, s.err, done.Error, "step %d", i)
		require.Equal(t, "n1", done.Node)
		require.Equal(t, "r0", done.Key)
	}

	raw, err := c.cli.Get(context.Background(), KeyPrefix+"r0")
	require.NoError(t, err)
	require.Len(t, raw.Kvs, 1)
	require.Equal(t, "4", string(raw.Kvs[0].Value), "stored as a decimal string under the prefix")

	serializable := dial(t, endpoint, ClientOptions{Serializable: true})
	done := invoke(serializable, Read, "r0", nil)
	require.Equal(t, harness.OK, done.Type)
	require.JSONEq(t, "4", string(done.Value))

	_, err = c.cli.Put(context.Background(), KeyPrefix+"r9", "not a number")
	require.NoError(t, err)
	done = invoke(c, Read, "r9", nil)
	require.Equal(t, harness.Fail, done.Type)
	require.Contains(t, done.Error, `"not a number" is not an int`)
}

// TestClientServerDown: once the server is gone, reads fail and writes are
// info (clientv3 waits for a connection until the op times out, and a
// timeout never proves a write did not happen).
func TestClientServerDown(t *testing.T) {
	e, stop := startEtcd(t)
	c := dial(t, e.Clients[0].Addr().String(), ClientOptions{Timeout: 300 * time.Millisecond})
	require.Equal(t, harness.OK, invoke(c, Write, "r0", 1).Type)
	stop()

	read := invoke(c, Read, "r0", nil)
	require.Equal(t, harness.Fail, read.Type)
	require.NotEmpty(t, read.Error)
	for _, op := range []harness.Op{invoke(c, Write, "r0", 2), invoke(c, CAS, "r0", Swap{1, 2})} {
		require.Equal(t, harness.Info, op.Type, "%s: %s", op.F, op.Error)
		require.Contains(t, op.Error, "deadline exceeded")
		require.Equal(t, "n1", op.Node)
	}
}

// TestWorkloadAgainstEtcd is a small run end to end: four processes drive
// the generator against a real etcd, and the history must be
// linearizable.
func TestWorkloadAgainstEtcd(t *testing.T) {
	e, _ := startEtcd(t)
	endpoint := e.Clients[0].Addr().String()
	w, err := New(Options{Generator: GeneratorOptions{OpsPerKey: 40}})
	require.NoError(t, err)
	gen := w.Generator()
	rec := harness.NewMemoryRecorder()
	var mu sync.Mutex
	r := rand.New(rand.NewSource(1))

	var wg sync.WaitGroup
	for thread := range 4 {
		c := dial(t, endpoint, ClientOptions{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 60 {
				mu.Lock()
				op, _ := gen.Next(r, harness.Process(thread))
				mu.Unlock()
				op.Process, op.Type = harness.Process(thread), harness.Invoke
				op, err := rec.Record(op)
				if err != nil {
					panic(fmt.Sprintf("record: %v", err))
				}
				done := c.Invoke(context.Background(), op)
				done.Process = op.Process
				if _, err := rec.Record(done); err != nil {
					panic(fmt.Sprintf("record: %v", err))
				}
			}
		}()
	}
	wg.Wait()
	h := rec.History()
	require.NoError(t, h.Validate())
	require.Len(t, h, 2*4*60)

	checkers := w.Checkers()
	require.Len(t, checkers, 1)
	res := checkers[0].Check(context.Background(), h, t.TempDir())
	require.Equal(t, harness.ValidTrue, res.Valid, res.Summary)
	details, err := json.Marshal(res.Details)
	require.NoError(t, err)
	require.Contains(t, string(details), `"keys":6`, "240 ops at 40 a key")
}

func TestNewClientValidates(t *testing.T) {
	_, err := NewClient(nil, "n1", ClientOptions{})
	require.ErrorContains(t, err, "nil clientv3 client")
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:1"}, Logger: zap.NewNop()})
	require.NoError(t, err)
	defer cli.Close()
	_, err = NewClient(cli, "n1", ClientOptions{Timeout: -time.Second})
	require.ErrorContains(t, err, "timeout must not be negative")
	c, err := NewClient(cli, "n1", ClientOptions{})
	require.NoError(t, err)
	require.Equal(t, DefaultTimeout, c.opts.Timeout)
}

// TestClientBadValues: an op the client cannot even encode is a certain
// failure, without a request.
func TestClientBadValues(t *testing.T) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:1"}, Logger: zap.NewNop()})
	require.NoError(t, err)
	c, err := NewClient(cli, "n2", ClientOptions{Timeout: time.Second})
	require.NoError(t, err)
	defer c.Close()
	for _, op := range []harness.Op{
		{F: Write, Key: "r0"},
		{F: Write, Key: "r0", Value: json.RawMessage(`"x"`)},
		{F: CAS, Key: "r0", Value: json.RawMessage(`[1]`)},
	} {
		done := c.Invoke(context.Background(), op)
		require.Equal(t, harness.Fail, done.Type, "%s %s", op.F, op.Value)
		require.NotEmpty(t, done.Error)
		require.Equal(t, "n2", done.Node)
	}
}
