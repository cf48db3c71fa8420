package register

import (
	"encoding/json"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// drive plays the runner: threads take turns asking for an op, and every
// infoEvery-th op completes info, which retires its process and hands the
// thread a fresh one (process + concurrency), as the runner does.
func drive(t *testing.T, seed int64, opts GeneratorOptions, concurrency, n, infoEvery int) []harness.Op {
	t.Helper()
	g, err := NewGenerator(opts)
	require.NoError(t, err)
	r := rand.New(rand.NewSource(seed))
	procs := make([]harness.Process, concurrency)
	for i := range procs {
		procs[i] = harness.Process(i)
	}
	var ops []harness.Op
	for i := range n {
		thread := i % concurrency
		op, ok := g.Next(r, procs[thread])
		require.True(t, ok)
		op.Process = procs[thread]
		ops = append(ops, op)
		done := op.Completion(harness.OK)
		if infoEvery > 0 && i%infoEvery == infoEvery-1 {
			done.Type = harness.Info
			procs[thread] += harness.Process(concurrency)
		}
		g.Observe(done)
	}
	return ops
}

// TestGeneratorDeterministic: the same seed and call order give the same
// ops; another seed gives others.
func TestGeneratorDeterministic(t *testing.T) {
	a := drive(t, 1, GeneratorOptions{}, 5, 2000, 7)
	b := drive(t, 1, GeneratorOptions{}, 5, 2000, 7)
	c := drive(t, 2, GeneratorOptions{}, 5, 2000, 7)
	require.Equal(t, a, b)
	require.NotEqual(t, a, c)
}

// TestGeneratorRetiresKeys: a key gets exactly OpsPerKey invocations, then
// is never used again; fresh keys are r0, r1, ... in order; and no more
// than ceil(concurrency / ProcessesPerKey) keys are in use at once.
func TestGeneratorRetiresKeys(t *testing.T) {
	const perKey, concurrency = 50, 5
	ops := drive(t, 3, GeneratorOptions{OpsPerKey: perKey}, concurrency, 5000, 0)
	counts := map[string]int{}
	last := map[string]int{}
	first := map[string]int{}
	var order []string
	for i, op := range ops {
		if _, seen := counts[op.Key]; !seen {
			first[op.Key] = i
			order = append(order, op.Key)
		}
		counts[op.Key]++
		last[op.Key] = i
	}
	for i, key := range order {
		require.Equal(t, Key(i), key, "keys open in order")
	}
	full := 0
	for key, n := range counts {
		require.LessOrEqual(t, n, perKey, key)
		if n == perKey {
			full++
		}
	}
	require.GreaterOrEqual(t, full, len(counts)-3, "all but the keys still in flight got their full share")
	// Keys in flight at any instant: opened and not yet retired.
	for i := range ops {
		inFlight := 0
		for key := range counts {
			if first[key] <= i && i <= last[key] {
				inFlight++
			}
		}
		require.LessOrEqual(t, inFlight, 3, "op %d", i)
	}
}

// TestGeneratorGroups: two processes share each key; a process that
// completes info leaves its group, and its successor takes its place, so
// the key keeps two live processes.
func TestGeneratorGroups(t *testing.T) {
	ops := drive(t, 4, GeneratorOptions{}, 4, 400, 5)
	procsOf := map[string]map[harness.Process]bool{}
	for _, op := range ops {
		if procsOf[op.Key] == nil {
			procsOf[op.Key] = map[harness.Process]bool{}
		}
		procsOf[op.Key][op.Process] = true
	}
	require.Len(t, procsOf, 2, "4 processes, 2 per key, 400 ops: r0 and r1 only")
	for key, procs := range procsOf {
		require.Greater(t, len(procs), 2, "%s: retired processes were replaced", key)
	}
	// Without info ops, each key has exactly its two processes.
	ops = drive(t, 4, GeneratorOptions{ProcessesPerKey: 3}, 6, 300, 0)
	procsOf = map[string]map[harness.Process]bool{}
	for _, op := range ops {
		if procsOf[op.Key] == nil {
			procsOf[op.Key] = map[harness.Process]bool{}
		}
		procsOf[op.Key][op.Process] = true
	}
	require.Equal(t, map[string]map[harness.Process]bool{
		"r0": {0: true, 1: true, 2: true},
		"r1": {3: true, 4: true, 5: true},
	}, procsOf)
}

// TestGeneratorValues: reads carry no value, writes an int in 0..4, cas a
// pair in 0..4; the mix is about half reads, a quarter each of writes and
// cas.
func TestGeneratorValues(t *testing.T) {
	ops := drive(t, 5, GeneratorOptions{}, 4, 20000, 0)
	counts := map[string]int{}
	for _, op := range ops {
		counts[op.F]++
		switch op.F {
		case Read:
			require.Nil(t, op.Value)
		case Write:
			var v int
			require.NoError(t, json.Unmarshal(op.Value, &v), "%s", op.Value)
			require.True(t, v >= 0 && v < 5, "write %d", v)
		case CAS:
			var sw []int
			require.NoError(t, json.Unmarshal(op.Value, &sw), "%s", op.Value)
			require.Len(t, sw, 2)
			require.True(t, sw[0] >= 0 && sw[0] < 5 && sw[1] >= 0 && sw[1] < 5, "cas %v", sw)
		default:
			t.Fatalf("unexpected f %q", op.F)
		}
	}
	require.InDelta(t, 0.5, float64(counts[Read])/20000, 0.02)
	require.InDelta(t, 0.25, float64(counts[Write])/20000, 0.02)
	require.InDelta(t, 0.25, float64(counts[CAS])/20000, 0.02)
}

func TestGeneratorOptions(t *testing.T) {
	_, err := NewGenerator(GeneratorOptions{OpsPerKey: -1})
	require.ErrorContains(t, err, "ops per key")
	_, err = NewGenerator(GeneratorOptions{ProcessesPerKey: -1})
	require.ErrorContains(t, err, "processes per key")
	g, err := NewGenerator(GeneratorOptions{})
	require.NoError(t, err)
	require.Equal(t, GeneratorOptions{OpsPerKey: DefaultOpsPerKey, ProcessesPerKey: DefaultProcessesPerKey}, g.opts)
}
