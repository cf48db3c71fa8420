package watch

import (
	"context"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/checker/fixture"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/internal/etcdtest"
)

// TestFixtures: agreeing watchers are valid; each kind of divergence is
// named with the watcher, the event and the op.
func TestFixtures(t *testing.T) {
	fixture.Run(t, "testdata/*.txt", Checker{})
}

func TestGeneratorRoles(t *testing.T) {
	g := NewGenerator(2)
	r := rand.New(rand.NewSource(1))
	for _, p := range []harness.Process{0, 1} {
		op, _ := g.Next(r, p)
		require.Equal(t, Watch, op.F)
	}
	for i, p := range []harness.Process{2, 3, 7, 2} {
		op, _ := g.Next(r, p)
		require.Equal(t, Write, op.F)
		require.JSONEq(t, string(harness.MustValue(i)), string(op.Value))
	}
	require.Equal(t, []harness.Op{{F: FinalWatch, Node: "n1"}}, FinalOps([]harness.Node{{Name: "n1"}}))
}

func TestNewValidates(t *testing.T) {
	_, err := New(Options{Concurrency: 1, Client: ClientOptions{Key: "/k"}})
	require.ErrorContains(t, err, "at least 2 client threads")
	_, err = New(Options{Concurrency: 2})
	require.ErrorContains(t, err, "empty key")
	w, err := New(Options{Concurrency: 5, Client: ClientOptions{Key: "/k"}})
	require.NoError(t, err)
	require.Equal(t, 2, w.watchers)
	require.Equal(t, int64(DefaultStartRevision), w.opts.Client.StartRevision)
}

// TestWorkloadAgainstEtcd runs writers and watchers through the runner
// against a real etcd: every watcher agrees, and the final watches replay
// every acknowledged write.
func TestWorkloadAgainstEtcd(t *testing.T) {
	s := etcdtest.Start(t)
	w, err := New(Options{Concurrency: 4, Client: ClientOptions{Key: "/watched", Window: 200 * time.Millisecond}})
	require.NoError(t, err)
	h := s.Run(t, w, etcdtest.RunOptions{Concurrency: 4, TimeLimit: 1500 * time.Millisecond, Rate: 200})
	res := w.Checkers()[0].Check(context.Background(), h, "")
	require.Equal(t, harness.ValidTrue, res.Valid, res.Summary)
	d := res.Details.(*Details)
	require.Positive(t, d.Writes.OK)
	require.Len(t, d.Watchers, 2+3, "two live watchers and a final watch per node")
	for _, wr := range d.Watchers {
		if wr.Final {
			require.True(t, wr.Complete, wr.Name)
			require.Equal(t, d.Writes.OK, wr.Events, "%s replays every write", wr.Name)
		}
	}
}

// TestStreamResumes: a watcher whose stream is cancelled by the server
// resumes after the last event it saw, so its ops together miss nothing.
func TestStreamResumes(t *testing.T) {
	s := etcdtest.Start(t)
	cli := s.Dial(t)
	defer cli.Close()
	opts, err := ClientOptions{Key: "/resume", Window: 300 * time.Millisecond}.validate()
	require.NoError(t, err)
	c := newClient(s.Dial(t), "n1", opts)
	defer c.Close()
	for v := range 3 {
		_, err := cli.Put(context.Background(), "/resume", string(rune('0'+v)))
		require.NoError(t, err)
	}
	first := c.Invoke(context.Background(), harness.Op{F: Watch})
	require.Equal(t, harness.OK, first.Type, first.Error)
	var v WatchValue
	require.NoError(t, first.DecodeValue(&v))
	require.Len(t, v.Events, 3)
	require.Equal(t, int64(1), v.From)

	// Break the stream as the server would, then write more.
	c.closeStream()
	broken := c.Invoke(context.Background(), harness.Op{F: Watch})
	require.Equal(t, harness.Fail, broken.Type, "a broken stream with no events fails")
	_, err = cli.Put(context.Background(), "/resume", "3")
	require.NoError(t, err)
	next := c.Invoke(context.Background(), harness.Op{F: Watch})
	require.Equal(t, harness.OK, next.Type, next.Error)
	v = WatchValue{}
	require.NoError(t, next.DecodeValue(&v))
	require.Equal(t, int64(5), v.From, "resumed at the first revision not yet seen")
	require.Equal(t, []Event{{Revision: 5, Value: "3"}}, v.Events)
}
