package watch

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/internal/etcdtest"
)

// rig drives clients against an embedded etcd one op at a time and
// records every op as the runner would, so that the history can be
// checked.
type rig struct {
	t   *testing.T
	s   *etcdtest.Server
	rec *harness.Recorder
}

func newRig(t *testing.T, s *etcdtest.Server) *rig {
	return &rig{t: t, s: s, rec: harness.NewMemoryRecorder()}
}

// client opens a client on the server with opts under prefix /w/.
func (r *rig) client(opts ClientOptions) *Client {
	r.t.Helper()
	opts.Prefix = "/w/"
	if opts.Window == 0 {
		opts.Window = 300 * time.Millisecond
	}
	opts.Dial = func(_ context.Context, eps []string) (*clientv3.Client, error) {
		return clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	}
	o, err := opts.validate()
	require.NoError(r.t, err)
	c := newClient(r.s.Dial(r.t), "n1", o)
	r.t.Cleanup(func() { _ = c.Close() })
	return c
}

// do records op as process p's, performs it on c within the op's own
// bound, and records its completion.
func (r *rig) do(c *Client, p harness.Process, op harness.Op) harness.Op {
	r.t.Helper()
	op.Process, op.Type, op.Node = p, harness.Invoke, "n1"
	inv, err := r.rec.Record(op)
	require.NoError(r.t, err)
	ctx, cancel := context.WithTimeout(context.Background(), c.OpTimeout(inv, 5*time.Second))
	defer cancel()
	done := c.Invoke(ctx, inv)
	done.Process, done.Node, done.F, done.Key = p, "n1", op.F, op.Key
	done, err = r.rec.Record(done)
	require.NoError(r.t, err)
	return done
}

// ok performs op and requires it to complete ok.
func (r *rig) ok(c *Client, p harness.Process, op harness.Op) harness.Op {
	r.t.Helper()
	done := r.do(c, p, op)
	require.Equal(r.t, harness.OK, done.Type, "%s: %s", op.F, done.Error)
	return done
}

// put puts v to key as process p and returns the revision.
func (r *rig) put(c *Client, p harness.Process, key string, v int) int64 {
	r.t.Helper()
	var res WriteResult
	done := r.ok(c, p, harness.Op{F: Put, Key: key, Value: harness.MustValue(v)})
	require.NoError(r.t, done.DecodeValue(&res))
	require.Equal(r.t, res.Revision, done.Revision, "the op records its write's revision, for the replicas checker")
	return res.Revision
}

// watch reads one window of spec's session as process p.
func (r *rig) watch(c *Client, p harness.Process, spec WatchSpec) (harness.Op, WatchValue) {
	r.t.Helper()
	done := r.do(c, p, harness.Op{F: Watch, Value: harness.MustValue(spec)})
	var v WatchValue
	require.NoError(r.t, done.DecodeValue(&v), done.Error)
	return done, v
}

// check judges the history recorded so far.
func (r *rig) check() (harness.Result, *Details) {
	r.t.Helper()
	h := r.rec.History()
	require.NoError(r.t, h.Validate())
	res := Checker{}.Check(context.Background(), h, "")
	return res, res.Details.(*Details)
}

// property returns d's verdict on name.
func property(t *testing.T, d *Details, name string) PropertyResult {
	t.Helper()
	for _, p := range d.Properties {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no property %s", name)
	return PropertyResult{}
}

// events flattens v's events.
func events(v WatchValue) []Event {
	var evs []Event
	for _, r := range v.Responses {
		evs = append(evs, r.Events...)
	}
	return evs
}

// revisionsOf lists the revisions and keys of evs as "rev:key".
func revisionsOf(evs []Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = eventName(e)
	}
	return out
}

func eventName(e Event) string {
	return e.Type[:1] + ":" + e.Key + "@" + itoa(e.Revision)
}

func itoa(n int64) string { return string(harness.MustValue(n)) }
