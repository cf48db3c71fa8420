package lock

import (
	"context"
	"encoding/json"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/checker/fixture"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/internal/etcdtest"
)

// TestFixtures: the unfenced checker fails on any overlap of beliefs; the
// fenced one reports overlaps and fails only on a write past its
// supersession.
func TestFixtures(t *testing.T) {
	t.Run("memory", func(t *testing.T) { fixture.Run(t, "testdata/memory/*.txt", Checker{}) })
	t.Run("fenced", func(t *testing.T) { fixture.Run(t, "testdata/fenced/*.txt", Checker{Fenced: true}) })
}

func TestGeneratorCycle(t *testing.T) {
	g := NewGenerator()
	r := rand.New(rand.NewSource(1))
	step := func(p harness.Process, want string, outcome harness.Type) {
		t.Helper()
		op, ok := g.Next(r, p)
		require.True(t, ok)
		require.Equal(t, want, op.F)
		op.Process, op.Type = p, outcome
		g.Observe(op)
	}
	step(0, Acquire, harness.Fail)
	step(0, Acquire, harness.OK)
	step(1, Acquire, harness.OK)
	step(0, Add, harness.OK)
	step(1, Add, harness.Fail)
	step(0, Release, harness.OK)
	step(1, Release, harness.Info)
	step(0, Acquire, harness.OK)
	step(0, Add, harness.Info) // retires p0
	step(0, Acquire, harness.OK)
	step(9, Acquire, harness.OK)
	op, _ := g.Next(r, 9)
	require.Equal(t, Add, op.F)
	require.JSONEq(t, "3", string(op.Value), "elements 0, 1, 2 went to earlier adds")
}

func TestOptionsValidate(t *testing.T) {
	_, err := New(Options{Variant: "lock", Client: ClientOptions{Prefix: "/l/"}})
	require.ErrorContains(t, err, "variant")
	_, err = New(Options{Variant: VariantMemory, Client: ClientOptions{Prefix: "/l/", TTL: 1500 * time.Millisecond}})
	require.ErrorContains(t, err, "whole number of seconds")
	w, err := New(Options{Variant: VariantEtcd, Client: ClientOptions{Prefix: "/l/"}})
	require.NoError(t, err)
	require.Equal(t, DefaultTTL, w.opts.Client.TTL)
	require.Len(t, w.FinalOps([]harness.Node{{Name: "n1"}, {Name: "n2"}}), 2, "the etcd-held set is read on every node")
	m, err := New(Options{Variant: VariantMemory, Client: ClientOptions{Prefix: "/l/"}})
	require.NoError(t, err)
	require.Len(t, m.FinalOps([]harness.Node{{Name: "n1"}, {Name: "n2"}}), 1, "the in-memory set is read once")
}

// recorder runs ops of several clients into one history.
type recorder struct {
	t   *testing.T
	rec *harness.Recorder
}

func (r recorder) do(c harness.Client, p harness.Process, f string, value any) harness.Op {
	r.t.Helper()
	op := harness.Op{Process: p, Type: harness.Invoke, F: f}
	if value != nil {
		op.Value = harness.MustValue(value)
	}
	op, err := r.rec.Record(op)
	require.NoError(r.t, err)
	done := c.Invoke(context.Background(), op)
	done.Process = p
	done, err = r.rec.Record(done)
	require.NoError(r.t, err)
	return done
}

// TestLapsedHolder plays the lease lapse by hand against a real etcd: p0
// holds the lock, its lock key is deleted behind its back (as an expired
// lease would), p1 acquires, and p0, still believing, adds. Without a
// fence p0's write lands and the unfenced checker reports two holders;
// with the fence p0 is refused, the set loses nothing, and the fenced
// checker reports the overlap but stays valid.
func TestLapsedHolder(t *testing.T) {
	s := etcdtest.Start(t)
	for _, variant := range []string{VariantMemory, VariantEtcd} {
		t.Run(variant, func(t *testing.T) {
			w, err := New(Options{Variant: variant, Client: ClientOptions{Prefix: "/" + variant + "/", Timeout: 2 * time.Second}})
			require.NoError(t, err)
			open := func(node string) harness.Client {
				c, err := w.NewClient(s.Dial(t), node)
				require.NoError(t, err)
				t.Cleanup(func() { require.NoError(t, c.Close()) })
				return c
			}
			c0, c1 := open("n1"), open("n2")
			r := recorder{t: t, rec: harness.NewMemoryRecorder()}

			acq := r.do(c0, 0, Acquire, nil)
			require.Equal(t, harness.OK, acq.Type, acq.Error)
			var v AcquireValue
			require.NoError(t, json.Unmarshal(acq.Value, &v))
			require.Contains(t, v.Key, "/"+variant+"/lock/")

			// p1 waits, gives up, and removes its claim.
			waited := r.do(c1, 1, Acquire, nil)
			require.Equal(t, harness.Fail, waited.Type)
			require.Contains(t, waited.Error, "claim removed")

			admin := s.Dial(t)
			defer admin.Close()
			_, err = admin.Delete(context.Background(), v.Key)
			require.NoError(t, err)
			require.Equal(t, harness.OK, r.do(c1, 1, Acquire, nil).Type)

			late := r.do(c0, 0, Add, 0)
			if variant == VariantEtcd {
				require.Equal(t, harness.Fail, late.Type)
				require.Contains(t, late.Error, FencedError)
			} else {
				require.Equal(t, harness.OK, late.Type)
			}
			require.Equal(t, harness.OK, r.do(c0, 0, Release, nil).Type)
			require.Equal(t, harness.OK, r.do(c1, 1, Add, 1).Type)
			require.Equal(t, harness.OK, r.do(c1, 1, Release, nil).Type)
			read := r.do(c1, 2, FinalRead, nil)
			require.Equal(t, harness.OK, read.Type, read.Error)

			h := r.rec.History()
			lock := w.Checkers()[0].Check(context.Background(), h, "")
			d := lock.Details.(*Details)
			require.Equal(t, 1, d.Overlaps, lock.Summary)
			set := w.Checkers()[1].Check(context.Background(), h, "")
			require.Equal(t, harness.ValidTrue, set.Valid, set.Summary)
			if variant == VariantEtcd {
				require.Equal(t, harness.ValidTrue, lock.Valid, lock.Summary)
				require.Equal(t, 1, d.Refused)
				require.JSONEq(t, "[1]", string(read.Value))
			} else {
				require.Equal(t, harness.ValidFalse, lock.Valid, lock.Summary)
				require.Contains(t, lock.Summary[1], "mutual exclusion violated")
				require.JSONEq(t, "[0,1]", string(read.Value))
			}
		})
	}
}

// TestClientRefusesOutOfTurn: adds and releases without the lock fail
// without touching the store.
func TestClientRefusesOutOfTurn(t *testing.T) {
	s := etcdtest.Start(t)
	w, err := New(Options{Variant: VariantEtcd, Client: ClientOptions{Prefix: "/turn/"}})
	require.NoError(t, err)
	c, err := w.NewClient(s.Dial(t), "n1")
	require.NoError(t, err)
	defer c.Close()
	r := recorder{t: t, rec: harness.NewMemoryRecorder()}
	require.Contains(t, r.do(c, 0, Add, 0).Error, "not holding")
	require.Contains(t, r.do(c, 0, Release, nil).Error, "not holding")
	require.Equal(t, harness.OK, r.do(c, 0, Acquire, nil).Type)
	require.Contains(t, r.do(c, 0, Acquire, nil).Error, "already holding")
	// A fresh process on the same client never inherits the hold.
	require.Contains(t, r.do(c, 5, Add, 0).Error, "not holding")
	require.Equal(t, harness.OK, r.do(c, 5, Acquire, nil).Type, "the abandoned hold is not in the way: its session was revoked")
	require.Equal(t, harness.Fail, r.do(c, 5, "steal", nil).Type)
}

// TestWorkloadAgainstEtcd runs both variants through the runner: a
// healthy etcd excludes, and the guarded set loses nothing.
func TestWorkloadAgainstEtcd(t *testing.T) {
	s := etcdtest.Start(t)
	for _, variant := range []string{VariantMemory, VariantEtcd} {
		t.Run(variant, func(t *testing.T) {
			w, err := New(Options{Variant: variant, Client: ClientOptions{Prefix: "/run-" + variant + "/"}})
			require.NoError(t, err)
			h := s.Run(t, w, etcdtest.RunOptions{Concurrency: 4, TimeLimit: 3 * time.Second})
			lock := w.Checkers()[0].Check(context.Background(), h, "")
			require.Equal(t, harness.ValidTrue, lock.Valid, lock.Summary)
			d := lock.Details.(*Details)
			require.Zero(t, d.Overlaps)
			require.GreaterOrEqual(t, d.Holds, 2, lock.Summary)
			set := w.Checkers()[1].Check(context.Background(), h, "")
			require.Equal(t, harness.ValidTrue, set.Valid, set.Summary)
			sd := set.Details.(*checker.SetDetails)
			require.Positive(t, sd.Adds.OK, set.Summary)
			require.Equal(t, sd.Adds.OK+sd.Recovered.Count, sd.Present)
		})
	}
}
