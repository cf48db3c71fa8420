package set

import (
	"context"
	"encoding/json"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/internal/etcdtest"
)

func TestGeneratorHandsOutEachElementOnce(t *testing.T) {
	g := NewGenerator()
	r := rand.New(rand.NewSource(1))
	for i := range 100 {
		op, ok := g.Next(r, harness.Process(i%3))
		require.True(t, ok)
		require.Equal(t, Add, op.F)
		require.JSONEq(t, string(harness.MustValue(i)), string(op.Value))
	}
	ops := FinalOps([]harness.Node{{Name: "n1"}, {Name: "n2"}})
	require.Equal(t, []harness.Op{{F: FinalRead, Node: "n1"}, {F: FinalRead, Node: "n2"}}, ops)
}

func TestOptionsValidate(t *testing.T) {
	for _, bad := range []ClientOptions{
		{Mode: ModeKeys},
		{Prefix: "/p/", Mode: "queue"},
		{Prefix: "/p/", Mode: ModeKeys, Timeout: -1},
	} {
		_, err := New(Options{Client: bad})
		require.Error(t, err, "%+v", bad)
	}
	w, err := New(Options{Client: ClientOptions{Prefix: "/p/", Mode: ModeAppend}})
	require.NoError(t, err)
	require.Equal(t, DefaultTimeout, w.opts.Client.Timeout)
}

func invoke(t *testing.T, c harness.Client, f string, value any) harness.Op {
	t.Helper()
	op := harness.Op{Type: harness.Invoke, F: f}
	if value != nil {
		op.Value = harness.MustValue(value)
	}
	return c.Invoke(context.Background(), op)
}

// TestClientModes adds and reads in both modes against a real etcd, and
// the two modes keep separate data under separate prefixes.
func TestClientModes(t *testing.T) {
	s := etcdtest.Start(t)
	for _, mode := range Modes {
		t.Run(mode, func(t *testing.T) {
			c, err := NewClient(s.Dial(t), "n1", ClientOptions{Prefix: "/t/" + mode + "/", Mode: mode})
			require.NoError(t, err)
			defer c.Close()
			read := invoke(t, c, FinalRead, nil)
			require.Equal(t, harness.OK, read.Type, read.Error)
			require.JSONEq(t, `[]`, string(read.Value))
			var last int64
			for _, e := range []int{3, 1, 2} {
				done := invoke(t, c, Add, e)
				require.Equal(t, harness.OK, done.Type, done.Error)
				require.Equal(t, "n1", done.Node)
				require.Greater(t, done.Revision, last, "an acknowledged add records its write's revision, for the replicas checker")
				last = done.Revision
			}
			read = invoke(t, c, FinalRead, nil)
			require.Equal(t, harness.OK, read.Type, read.Error)
			var got []int
			require.NoError(t, json.Unmarshal(read.Value, &got))
			require.ElementsMatch(t, []int{1, 2, 3}, got)

			bad := c.Invoke(context.Background(), harness.Op{F: Add, Value: json.RawMessage(`"x"`)})
			require.Equal(t, harness.Fail, bad.Type)
			unknown := invoke(t, c, "delete", 1)
			require.Equal(t, harness.Fail, unknown.Type)
		})
	}
}

// TestAppendUnderContention: concurrent appenders to one key lose nothing,
// because each append is guarded by the list's mod revision.
func TestAppendUnderContention(t *testing.T) {
	s := etcdtest.Start(t)
	w, err := New(Options{Client: ClientOptions{Prefix: "/contended/", Mode: ModeAppend, Timeout: 3 * time.Second}})
	require.NoError(t, err)
	h := s.Run(t, w, etcdtest.RunOptions{Concurrency: 6, TimeLimit: 1500 * time.Millisecond})
	res := w.Checkers()[0].Check(context.Background(), h, "")
	require.Equal(t, harness.ValidTrue, res.Valid, res.Summary)
	d := res.Details.(*checker.SetDetails)
	require.GreaterOrEqual(t, d.Adds.OK, 2, "appends succeed despite conflicts: %v", res.Summary)
	require.Equal(t, 3, d.FinalReads.OK, "one final read per node")
	require.Equal(t, d.Adds.OK+d.Recovered.Count, d.Present, "every acknowledged add, and the info ones that happened (a loaded machine times some out)")
}

// TestWorkloadAgainstEtcd: the keys mode end to end through the runner.
func TestWorkloadAgainstEtcd(t *testing.T) {
	s := etcdtest.Start(t)
	w, err := New(Options{Client: ClientOptions{Prefix: "/run/", Mode: ModeKeys}})
	require.NoError(t, err)
	h := s.Run(t, w, etcdtest.RunOptions{TimeLimit: time.Second})
	res := w.Checkers()[0].Check(context.Background(), h, "")
	require.Equal(t, harness.ValidTrue, res.Valid, res.Summary)
	d := res.Details.(*checker.SetDetails)
	require.GreaterOrEqual(t, d.Adds.OK, 5, res.Summary)
	require.Equal(t, d.Adds.OK+d.Recovered.Count, d.Present)
}

// TestLostAddIsCaught: deleting an acknowledged element behind the
// workload's back is a lost element in the checker's eyes.
func TestLostAddIsCaught(t *testing.T) {
	s := etcdtest.Start(t)
	cli := s.Dial(t)
	c, err := NewClient(cli, "n1", ClientOptions{Prefix: "/lost/", Mode: ModeKeys})
	require.NoError(t, err)
	defer c.Close()
	rec := harness.NewMemoryRecorder()
	record := func(op harness.Op) {
		_, err := rec.Record(op)
		require.NoError(t, err)
	}
	for e := range 3 {
		op := harness.Op{Process: 0, Type: harness.Invoke, F: Add, Value: harness.MustValue(e)}
		record(op)
		record(c.Invoke(context.Background(), op))
	}
	_, err = cli.Delete(context.Background(), "/lost/e1")
	require.NoError(t, err)
	op := harness.Op{Process: 1, Type: harness.Invoke, F: FinalRead}
	record(op)
	record(c.Invoke(context.Background(), op))
	res := checker.Set{}.Check(context.Background(), rec.History(), "")
	require.Equal(t, harness.ValidFalse, res.Valid)
	require.Equal(t, 1, res.Details.(*checker.SetDetails).Lost.Count)
	require.Contains(t, res.Summary[1], "lost")
}
