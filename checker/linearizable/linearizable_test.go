package linearizable_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/checker/linearizable"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/register"
)

func newChecker(t testing.TB, opts linearizable.Options) *linearizable.Checker {
	t.Helper()
	c, err := linearizable.New(register.Model(), opts)
	require.NoError(t, err)
	return c
}

// TestSimulatedHistoriesAreLinearizable: histories of a store that applies
// every op atomically inside its interval, with info ops that did and did
// not take effect, must all be accepted. A false alarm here would be a
// checker bug, not a store bug.
func TestSimulatedHistoriesAreLinearizable(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		h := simulate(simConfig{seed: seed, concurrency: 6, invocations: 800, infoRate: 0.05})
		require.NoError(t, h.Validate())
		res := newChecker(t, linearizable.Options{}).Check(context.Background(), h, "")
		require.Equal(t, harness.ValidTrue, res.Valid, "seed %d: %v", seed, res.Summary)
		d := res.Details.(*linearizable.Details)
		// 6 processes work on 3 keys at a time, each retired after 200 ops.
		require.GreaterOrEqual(t, d.Keys, 800/register.DefaultOpsPerKey, "seed %d", seed)
		require.LessOrEqual(t, d.Keys, 800/register.DefaultOpsPerKey+3, "seed %d", seed)
		require.Positive(t, d.Dropped, "seed %d: failed cas ops are dropped", seed)
	}
}

// TestSimulatedBugsAreCaught: the same store with a scripted bug (stale
// reads, lost acknowledged writes) must be rejected, with the bad keys
// named, explained and visualized.
func TestSimulatedBugsAreCaught(t *testing.T) {
	for _, bug := range []struct {
		name string
		bug  simBug
	}{{"stale reads", staleReads}, {"lost writes", lostWrites}} {
		t.Run(bug.name, func(t *testing.T) {
			h := simulate(simConfig{seed: 7, concurrency: 6, invocations: 800, infoRate: 0.02, bug: bug.bug})
			out := t.TempDir()
			res := newChecker(t, linearizable.Options{}).Check(context.Background(), h, out)
			require.Equal(t, harness.ValidFalse, res.Valid, res.Summary)
			d := res.Details.(*linearizable.Details)
			require.NotEmpty(t, d.Bad)
			require.Contains(t, res.Summary[0], d.Bad[0])
			for _, k := range d.PerKey {
				if k.Valid != harness.ValidFalse {
					continue
				}
				require.NotNil(t, k.Anomaly, k.Key)
				require.NotEmpty(t, k.Anomaly.Stuck, k.Key)
				require.FileExists(t, filepath.Join(out, "linear", k.Key+".html"))
			}
		})
	}
}

// ambiguous is a history of one key that porcupine cannot settle quickly:
// n concurrent writes of unknown outcome, then reads of values none of them
// wrote. Refuting it means trying every subset and order of the writes.
func ambiguous(key string, n int) harness.History {
	var h harness.History
	add := func(op harness.Op) {
		op.Index, op.Key = len(h), key
		h = append(h, op)
	}
	for p := range n {
		add(harness.Op{Process: harness.Process(p), Type: harness.Invoke, F: register.Write, Value: harness.MustValue(p), Time: time.Duration(p)})
	}
	for p := range n {
		add(harness.Op{Process: harness.Process(p), Type: harness.Info, F: register.Write, Value: harness.MustValue(p), Time: time.Duration(n + p)})
	}
	for i := range 3 {
		at := time.Duration(3*n + 2*i)
		add(harness.Op{Process: harness.Process(n), Type: harness.Invoke, F: register.Read, Time: at})
		add(harness.Op{Process: harness.Process(n), Type: harness.OK, F: register.Read, Value: harness.MustValue(n + i), Time: at + 1})
	}
	return h
}

// concat appends histories one after the other in time, renumbering
// indexes and giving each its own processes.
func concat(hs ...harness.History) harness.History {
	var out harness.History
	var offset time.Duration
	for i, h := range hs {
		for _, op := range h {
			op.Index = len(out)
			op.Time += offset
			op.Process += harness.Process(1000 * i)
			out = append(out, op)
		}
		if len(out) > 0 {
			offset = out[len(out)-1].Time + 1
		}
	}
	return out
}

// TestUnknownOnTimeout: a check that runs out of time is unknown, never
// true or false, and says why.
func TestUnknownOnTimeout(t *testing.T) {
	h := ambiguous("r0", 24)
	start := time.Now()
	res := newChecker(t, linearizable.Options{Timeout: 50 * time.Millisecond}).Check(context.Background(), h, t.TempDir())
	require.Less(t, time.Since(start), 5*time.Second, "the timeout must bound the check")
	require.Equal(t, harness.ValidUnknown, res.Valid, res.Summary)
	d := res.Details.(*linearizable.Details)
	require.Equal(t, []string{"r0"}, d.Unknown)
	require.Contains(t, d.PerKey[0].Reason, "timed out")
	require.Contains(t, res.Summary[0], "1 unknown (r0)")
}

// TestKeyTimeoutSparesOtherKeys: a per-key cap keeps one hard key from
// eating the whole budget; the easy keys are still decided.
func TestKeyTimeoutSparesOtherKeys(t *testing.T) {
	h := concat(ambiguous("a0", 24), simulate(simConfig{seed: 3, concurrency: 2, invocations: 50}))
	require.NoError(t, h.Validate())
	res := newChecker(t, linearizable.Options{Timeout: time.Minute, KeyTimeout: 50 * time.Millisecond, Parallelism: 1}).Check(context.Background(), h, "")
	require.Equal(t, harness.ValidUnknown, res.Valid, res.Summary)
	d := res.Details.(*linearizable.Details)
	require.Equal(t, []string{"a0"}, d.Unknown)
	require.Less(t, d.TookSeconds, 5.0)
	for _, k := range d.PerKey[1:] {
		require.Equal(t, harness.ValidTrue, k.Valid, k.Key)
	}
}

// TestHardKeysDoNotHideViolations: with no per-key cap and one worker, two
// hard keys checked first would spend the whole budget; the first pass
// still reaches the bad key after them and reports it.
func TestHardKeysDoNotHideViolations(t *testing.T) {
	stale := harness.History{
		{Process: 0, Type: harness.Invoke, F: register.Write, Key: "z", Value: harness.MustValue(1)},
		{Process: 0, Type: harness.OK, F: register.Write, Key: "z", Value: harness.MustValue(1), Time: 1},
		{Process: 1, Type: harness.Invoke, F: register.Read, Key: "z", Time: 2},
		{Process: 1, Type: harness.OK, F: register.Read, Key: "z", Value: harness.MustValue(nil), Time: 3},
	}
	h := concat(ambiguous("a0", 24), ambiguous("a1", 24), stale)
	require.NoError(t, h.Validate())
	res := newChecker(t, linearizable.Options{Timeout: time.Second, Parallelism: 1}).Check(context.Background(), h, "")
	require.Equal(t, harness.ValidFalse, res.Valid, res.Summary)
	d := res.Details.(*linearizable.Details)
	require.Equal(t, []string{"z"}, d.Bad)
	require.Equal(t, []string{"a0", "a1"}, d.Unknown)
	// a0 got the second pass and the rest of the budget; a1 got nothing.
	require.Regexp(t, `^timed out after \d+ms$`, d.PerKey[0].Reason)
	require.Equal(t, "timed out after 50ms, then not checked: time budget exhausted", d.PerKey[1].Reason)
}

// TestCanceledContext: a check under a context already done decides
// nothing and says so, rather than claiming validity.
func TestCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h := simulate(simConfig{seed: 1, concurrency: 4, invocations: 100})
	res := newChecker(t, linearizable.Options{}).Check(ctx, h, "")
	require.Equal(t, harness.ValidUnknown, res.Valid)
	d := res.Details.(*linearizable.Details)
	for _, k := range d.PerKey {
		require.Contains(t, k.Reason, "context canceled")
	}
}

// TestEmptyHistory: nothing to check is vacuously linearizable.
func TestEmptyHistory(t *testing.T) {
	res := newChecker(t, linearizable.Options{}).Check(context.Background(), nil, t.TempDir())
	require.Equal(t, harness.ValidTrue, res.Valid)
	require.True(t, strings.HasPrefix(res.Summary[0], "linearizable: 0 keys, 0 not linearizable, 0 unknown"), res.Summary[0])
}

// TestNoArtifactsWithoutOut: with no output directory the checker writes
// nothing, and still reports the bad key.
func TestNoArtifactsWithoutOut(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	h := simulate(simConfig{seed: 7, concurrency: 6, invocations: 800, bug: lostWrites})
	res := newChecker(t, linearizable.Options{}).Check(context.Background(), h, "")
	require.Equal(t, harness.ValidFalse, res.Valid)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
	for _, k := range res.Details.(*linearizable.Details).PerKey {
		require.Empty(t, k.File)
	}
}

// TestMalformedHistory: a history whose invocations and completions do
// not pair up is not judged at all.
func TestMalformedHistory(t *testing.T) {
	h := harness.History{
		{Index: 0, Process: 0, Type: harness.Invoke, F: register.Write, Key: "r0", Value: harness.MustValue(1)},
		{Index: 1, Process: 0, Type: harness.Invoke, F: register.Read, Key: "r0"},
		{Index: 2, Process: 0, Type: harness.OK, F: register.Read, Key: "r0", Value: harness.MustValue(5)},
	}
	res := newChecker(t, linearizable.Options{}).Check(context.Background(), h, t.TempDir())
	require.Equal(t, harness.ValidUnknown, res.Valid)
	require.Contains(t, res.Summary[0], "malformed history: op 1: process 0 invoked while another op is in flight")
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := register.Model()
	for name, tc := range map[string]struct {
		model linearizable.Model
		opts  linearizable.Options
		want  string
	}{
		"no init":              {linearizable.Model{Spec: porcupine.Model{Step: good.Spec.Step}, Decode: good.Decode}, linearizable.Options{}, "Spec.Init"},
		"no step":              {linearizable.Model{Spec: porcupine.Model{Init: good.Spec.Init}, Decode: good.Decode}, linearizable.Options{}, "Spec.Step"},
		"no decode":            {linearizable.Model{Spec: good.Spec}, linearizable.Options{}, "Decode"},
		"negative timeout":     {good, linearizable.Options{Timeout: -time.Second}, "timeout must not be negative"},
		"negative key timeout": {good, linearizable.Options{KeyTimeout: -1}, "key timeout must not be negative"},
		"negative parallelism": {good, linearizable.Options{Parallelism: -1}, "parallelism"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := linearizable.New(tc.model, tc.opts)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// BenchmarkCheck20k measures a check of a simulated history of 20,000
// invocations (about 100 keys of 200 ops, 6 processes), the size of a few
// minutes of a real run: linearizable with 0, 3% and 10% of writes ending
// info, and with stale reads, where refuting a key costs more than
// accepting one.
func BenchmarkCheck20k(b *testing.B) {
	for _, tc := range []struct {
		name     string
		infoRate float64
		bug      simBug
		want     harness.Valid
	}{
		{"info=0", 0, noBug, harness.ValidTrue},
		{"info=0.03", 0.03, noBug, harness.ValidTrue},
		{"info=0.1", 0.1, noBug, harness.ValidTrue},
		{"info=0.03/stale-reads", 0.03, staleReads, harness.ValidFalse},
	} {
		h := simulate(simConfig{seed: 42, concurrency: 6, invocations: 20000, infoRate: tc.infoRate, bug: tc.bug})
		b.Run(tc.name, func(b *testing.B) {
			c := newChecker(b, linearizable.Options{})
			for b.Loop() {
				res := c.Check(context.Background(), h, "")
				if res.Valid != tc.want {
					b.Fatalf("simulated history judged %v, want %v: %v", res.Valid, tc.want, res.Summary)
				}
			}
		})
	}
}
