package register

import (
	"context"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/checker/linearizable"
	"github.com/faultline/faultline/harness"
)

// The workload plugs into the runner's interfaces.
var (
	_ harness.Workload = (*Workload)(nil)
	_ harness.Observer = (*Generator)(nil)
	_ harness.Client   = (*Client)(nil)
)

func TestWorkload(t *testing.T) {
	w, err := New(Options{})
	require.NoError(t, err)
	require.Equal(t, "register", w.Name())

	checkers := w.Checkers()
	require.Len(t, checkers, 1)
	require.Equal(t, "linearizable", checkers[0].Name())

	// Each call gives a fresh generator: both start at r0.
	r := rand.New(rand.NewSource(1))
	a, _ := w.Generator().Next(r, 0)
	b, _ := w.Generator().Next(r, 0)
	require.Equal(t, "r0", a.Key)
	require.Equal(t, "r0", b.Key)
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, tc := range map[string]struct {
		opts Options
		want string
	}{
		"ops per key":      {Options{Generator: GeneratorOptions{OpsPerKey: -5}}, "ops per key must not be negative"},
		"processes":        {Options{Generator: GeneratorOptions{ProcessesPerKey: -1}}, "processes per key must not be negative"},
		"check timeout":    {Options{Check: linearizable.Options{Timeout: -time.Second}}, "timeout must not be negative"},
		"check key budget": {Options{Check: linearizable.Options{KeyTimeout: -time.Second}}, "key timeout must not be negative"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(tc.opts)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestFinalReadsCheckR0OnEveryNode(t *testing.T) {
	w, err := New(Options{})
	require.NoError(t, err)
	nodes := []harness.Node{{Name: "n1"}, {Name: "n2"}, {Name: "n3"}}
	final := w.FinalOps(nodes)
	require.Len(t, final, 3)
	for i, op := range final {
		require.Equal(t, Read, op.F)
		require.Equal(t, "r0", op.Key)
		require.Equal(t, nodes[i].Name, op.Node)
	}

	// r0 was written 1 then 2; the final reads come after. A node that
	// answers 1 missed an acknowledged write.
	history := func(finalValues ...int) harness.History {
		var h harness.History
		at := time.Duration(0)
		add := func(p harness.Process, f string, in, out any) {
			inv := harness.Op{Index: len(h), Process: p, Type: harness.Invoke, F: f, Key: "r0", Time: at}
			if in != nil {
				inv.Value = harness.MustValue(in)
			}
			h = append(h, inv)
			at += time.Millisecond
			done := inv.Completion(harness.OK)
			done.Index, done.Time = len(h), at
			if out != nil {
				done.Value = harness.MustValue(out)
			}
			h = append(h, done)
			at += time.Millisecond
		}
		add(0, Write, 1, nil)
		add(1, Write, 2, nil)
		for i, v := range finalValues {
			add(harness.Process(10+i), Read, nil, v)
		}
		return h
	}
	ctx := context.Background()
	require.Equal(t, harness.ValidTrue, w.Checkers()[0].Check(ctx, history(2, 2, 2), "").Valid)
	require.Equal(t, harness.ValidFalse, w.Checkers()[0].Check(ctx, history(2, 1, 2), "").Valid)
}
