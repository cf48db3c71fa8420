package watch

import (
	"context"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads"
	"github.com/faultline/faultline/workloads/internal/etcdtest"
)

// TestWorkloadAgainstEtcd runs writers and watchers through the runner
// against a real etcd, with compactions: every guarantee holds, and the
// final watches replay every acknowledged write.
func TestWorkloadAgainstEtcd(t *testing.T) {
	s := etcdtest.Start(t, func(cfg *embed.Config) { cfg.WatchProgressNotifyInterval = 200 * time.Millisecond })
	w, err := New(Options{Concurrency: 6, CompactEvery: 40, Client: ClientOptions{Prefix: "/watched/", Window: 100 * time.Millisecond, CompactKeep: 30}})
	require.NoError(t, err)
	h := s.Run(t, w, etcdtest.RunOptions{Concurrency: 6, TimeLimit: 4 * time.Second, Rate: 300})
	res := w.Checkers()[0].Check(context.Background(), h, "")
	d := res.Details.(*Details)
	for _, p := range d.Properties {
		assert.NotEqual(t, harness.ValidFalse, p.Valid, "%s: %v", p.Name, res.Summary)
	}
	for _, p := range []string{Ordered, Unique, Atomic, Bookmarkable, Reliable, Resumable, PrevKV} {
		assert.Equal(t, harness.ValidTrue, property(t, d, p).Valid, "%s: %v", p, res.Summary)
	}
	require.Positive(t, d.Writes.OK)
	require.Positive(t, d.Compactions.OK, res.Summary)
	require.Len(t, d.Finals, 3, "a final watch per node")
	for _, f := range d.Finals {
		assert.True(t, f.Complete, "%s: %s", f.Node, f.Outcome)
	}
}

// TestDefinitionOptions: the options' defaults build the workload as
// documented, every default passes its own check, and values given are
// used.
func TestDefinitionOptions(t *testing.T) {
	for _, o := range Definition.Options {
		require.NoError(t, o.Validate(o.Default), o.Name)
	}
	wl, err := Definition.New(workloads.Env{Prefix: "/p/", Concurrency: 6})
	require.NoError(t, err)
	w := wl.(*Workload)
	assert.Equal(t, DefaultKeys, w.opts.Keys)
	assert.Equal(t, 0, w.opts.CompactEvery, "no compaction by default")
	assert.Equal(t, int64(DefaultCompactKeep), w.opts.Client.CompactKeep)
	assert.Equal(t, int64(DefaultFinalPage), w.opts.Client.FinalPage)
	assert.Equal(t, DefaultFinalTimeout, w.opts.Client.FinalTimeout)
	assert.Equal(t, DefaultFinalLimit, w.opts.Client.FinalLimit)
	assert.Equal(t, 3, w.watchers)

	wl, err = Definition.New(workloads.Env{Prefix: "/p/", Concurrency: 4, Options: harness.Options{
		OptionKeys.Name: "2", OptionCompactEvery.Name: "10", OptionCompactKeep.Name: "7",
		OptionFinalPage.Name: "99", OptionFinalTimeout.Name: "3", OptionFinalLimit.Name: "60",
	}})
	require.NoError(t, err)
	w = wl.(*Workload)
	assert.Equal(t, 2, w.opts.Keys)
	assert.Equal(t, 10, w.opts.CompactEvery)
	assert.Equal(t, int64(7), w.opts.Client.CompactKeep)
	assert.Equal(t, int64(99), w.opts.Client.FinalPage)
	assert.Equal(t, 3*time.Second, w.opts.Client.FinalTimeout)
	assert.Equal(t, time.Minute, w.opts.Client.FinalLimit)

	assert.Error(t, OptionKeys.Validate("0"))
	assert.Error(t, OptionFinalTimeout.Validate("1.5"))
	assert.Error(t, Definition.Check(workloads.Env{Concurrency: 1}))
	assert.NoError(t, Definition.Check(workloads.Env{Concurrency: 2}))
}

func TestNewValidates(t *testing.T) {
	_, err := New(Options{Concurrency: 1, Client: ClientOptions{Prefix: "/k/"}})
	require.ErrorContains(t, err, "at least 2 client threads")
	_, err = New(Options{Concurrency: 2})
	require.ErrorContains(t, err, "empty key prefix")
	_, err = New(Options{Concurrency: 2, Client: ClientOptions{Prefix: "/k/", FinalPage: -1}})
	require.ErrorContains(t, err, "final page")
	w, err := New(Options{Concurrency: 5, Client: ClientOptions{Prefix: "/k/"}})
	require.NoError(t, err)
	require.Equal(t, 2, w.watchers)
	require.Equal(t, int64(DefaultStartRevision), w.opts.Client.StartRevision)
}

// TestGeneratorRoles: processes below the watcher count watch, process
// 0 in one session for the whole run and the others in sessions that
// turn over after their windows; the rest write unique values, with a
// compaction every CompactEvery writes.
func TestGeneratorRoles(t *testing.T) {
	g := NewGenerator(3, 4, 5, nil)
	r := rand.New(rand.NewSource(1))
	specOf := func(p harness.Process) WatchSpec {
		op, ok := g.Next(r, p)
		require.True(t, ok)
		require.Equal(t, Watch, op.F)
		var s WatchSpec
		require.NoError(t, op.DecodeValue(&s))
		return s
	}
	classic := specOf(0)
	assert.Equal(t, ClassicSpec(classic.Session), classic)
	for range 50 {
		assert.Equal(t, classic, specOf(0), "process 0 never turns over")
	}
	first := specOf(1)
	require.Positive(t, first.Windows)
	for range first.Windows - 1 {
		assert.Equal(t, first.Session, specOf(1).Session)
	}
	next := specOf(1)
	assert.NotEqual(t, first.Session, next.Session, "a new session after the last window")
	assert.NotEqual(t, next.Session, specOf(2).Session, "every session has its own number")

	values := map[int]bool{}
	compactions := 0
	for i := range 100 {
		op, ok := g.Next(r, harness.Process(3+i%3))
		require.True(t, ok)
		var puts []Mutation
		switch op.F {
		case Compact:
			compactions++
		case Put:
			var v int
			require.NoError(t, op.DecodeValue(&v))
			puts = append(puts, Mutation{Type: TypePut, Key: op.Key, Value: v})
		case Delete:
			assert.Contains(t, []string{"k0", "k1", "k2", "k3"}, op.Key)
		case Txn:
			var ms []Mutation
			require.NoError(t, op.DecodeValue(&ms))
			keys := map[string]bool{}
			for _, m := range ms {
				assert.False(t, keys[m.Key], "a txn's keys are distinct")
				keys[m.Key] = true
				if m.Type == TypePut {
					puts = append(puts, m)
				}
			}
			assert.GreaterOrEqual(t, len(ms), 2)
		default:
			t.Fatalf("writer got %s", op.F)
		}
		for _, m := range puts {
			assert.False(t, values[m.Value], "value %d put twice", m.Value)
			values[m.Value] = true
		}
	}
	assert.Equal(t, 20, compactions, "one write in five")
	require.Equal(t, []harness.Op{{F: FinalWatch, Node: "n1"}}, FinalOps([]harness.Node{{Name: "n1"}}))
}

// TestRotatingSpecsCoverEverything: a few dozen rotating sessions meet
// every combination of what is watched and where from, and every option
// with each kind of watch; their ranges are well formed.
func TestRotatingSpecsCoverEverything(t *testing.T) {
	seen := map[string]bool{}
	for n := range 84 {
		s := RotatingSpec(n, 4, nil)
		kind := "key"
		switch {
		case s.Prefix:
			kind = "prefix"
			assert.Empty(t, s.Key+s.End)
		case s.End != "":
			kind = "range"
			assert.Less(t, s.Key, s.End)
		}
		seen[kind+"/"+s.Start] = true
		for opt, on := range map[string]bool{"prev-kv": s.PrevKV, "noput": s.Filter == FilterNoPut, "nodelete": s.Filter == FilterNoDelete,
			"progress-notify": s.ProgressNotify, "request-progress": s.RequestProgress, "failover": s.Failover, "pinned": !s.Failover} {
			if on {
				seen[kind+"/"+opt] = true
			}
		}
		assert.Positive(t, s.Windows)
		if s.Start == StartOld || s.Start == StartFuture {
			assert.Positive(t, s.Offset)
		}
		assert.True(t, s.RequireLeader || s.Failover, "a pinned session always requires a leader")
	}
	for _, kind := range []string{"prefix", "key", "range"} {
		for _, what := range []string{StartNow, StartOld, StartFuture, StartFirst, "prev-kv", "noput", "nodelete", "progress-notify", "request-progress", "failover", "pinned"} {
			assert.True(t, seen[kind+"/"+what], "no %s session with %s", kind, what)
		}
	}
}

// TestStartsNarrowWhereSessionsWatchFrom: --watch-starts leaves out the
// starts it does not name and keeps every kind of watch with the rest;
// a bad value is refused naming what is allowed.
func TestStartsNarrowWhereSessionsWatchFrom(t *testing.T) {
	starts, err := ParseStarts("first, old,now")
	require.NoError(t, err)
	assert.Equal(t, []string{StartNow, StartOld, StartFirst}, starts, "in the turn's order")
	seen := map[string]bool{}
	for n := range 84 {
		s := RotatingSpec(n, 4, starts)
		assert.NotEqual(t, StartFuture, s.Start)
		kind := "key"
		if s.Prefix {
			kind = "prefix"
		}
		seen[kind+"/"+s.Start] = true
	}
	for _, kind := range []string{"prefix", "key"} {
		for _, start := range starts {
			assert.True(t, seen[kind+"/"+start], "no %s session from %s", kind, start)
		}
	}
	_, err = ParseStarts("now,later")
	assert.ErrorContains(t, err, `unknown start "later": want some of now, old, future, first`)
	_, err = ParseStarts("now,now")
	assert.ErrorContains(t, err, "twice")
}
