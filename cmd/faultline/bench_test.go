//go:build bench

package main

// The target benchmark: kvnode against etcd on the same register workload,
// with no faults and no rate limit, at 3 and 5 nodes, in one run. It drives
// the real faultline binary, like the end-to-end tests, and reads the
// figures back from each run's history. Run it with `make bench`, or
//
//	go test -tags bench -count=1 -v -run TestBenchTargets -timeout 60m ./cmd/faultline
//
// Settings come from the environment, so that a longer or repeated run
// needs no code change:
//
//	FAULTLINE_BENCH_TIME         seconds of workload per cell (default 20)
//	FAULTLINE_BENCH_ROUNDS       rounds; each cell reports its median (default 1)
//	FAULTLINE_BENCH_CONCURRENCY  client threads, as --concurrency (default 32)
//
// Cells run interleaved (etcd, kvnode, etcd, kvnode, ...) so that a noisy
// neighbour on a shared machine slows both targets rather than one.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
)

// benchFigures are one run's figures over its ok client ops.
type benchFigures struct {
	okOps      int
	throughput float64 // ok ops per second over the workload's span
	p50, p99   time.Duration
}

// measure computes the figures of a history: throughput is the number of
// ok client ops divided by the time from the first invocation to the last
// completion; latency is from invocation to ok completion.
func measure(h harness.History) benchFigures {
	var latencies []time.Duration
	var first, last time.Duration = -1, 0
	for _, p := range h.Client().Pairs() {
		if first < 0 || p.Invoke.Time < first {
			first = p.Invoke.Time
		}
		if p.Completion == nil {
			continue
		}
		last = max(last, p.Completion.Time)
		if p.Completion.Type == harness.OK {
			latencies = append(latencies, p.Completion.Time-p.Invoke.Time)
		}
	}
	slices.Sort(latencies)
	f := benchFigures{okOps: len(latencies), p50: nearestRank(latencies, 0.50), p99: nearestRank(latencies, 0.99)}
	if span := last - first; span > 0 {
		f.throughput = float64(f.okOps) / span.Seconds()
	}
	return f
}

// nearestRank is the q-quantile of sorted by the nearest-rank method.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// median returns the median of the figures of several rounds, field by
// field.
func median(rounds []benchFigures) benchFigures {
	pick := func(get func(benchFigures) float64) float64 {
		vs := make([]float64, len(rounds))
		for i, r := range rounds {
			vs[i] = get(r)
		}
		slices.Sort(vs)
		return vs[len(vs)/2]
	}
	return benchFigures{
		okOps:      int(pick(func(f benchFigures) float64 { return float64(f.okOps) })),
		throughput: pick(func(f benchFigures) float64 { return f.throughput }),
		p50:        time.Duration(pick(func(f benchFigures) float64 { return float64(f.p50) })),
		p99:        time.Duration(pick(func(f benchFigures) float64 { return float64(f.p99) })),
	}
}

func envOr(t *testing.T, name, fallback string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func envInt(t *testing.T, name string, fallback int) int {
	t.Helper()
	v, err := strconv.Atoi(envOr(t, name, strconv.Itoa(fallback)))
	require.NoError(t, err, "%s must be a whole number", name)
	require.Positive(t, v, "%s must be positive", name)
	return v
}

func TestBenchTargets(t *testing.T) {
	dockerClient(t)
	seconds := envInt(t, "FAULTLINE_BENCH_TIME", 20)
	rounds := envInt(t, "FAULTLINE_BENCH_ROUNDS", 1)
	concurrency := envOr(t, "FAULTLINE_BENCH_CONCURRENCY", "32")
	store := t.TempDir()
	nodeCounts := []int{3, 5}
	targetNames := []string{"etcd", "kvnode"}

	got := map[string][]benchFigures{}
	cell := func(target string, nodes int) string { return fmt.Sprintf("%s-n%d", target, nodes) }
	for round := 1; round <= rounds; round++ {
		for _, nodes := range nodeCounts {
			for _, target := range targetNames {
				name := cell(target, nodes)
				r := runFaultline(t, time.Duration(seconds)*time.Second+5*time.Minute, "test",
					"--target", target, "--nodes", strconv.Itoa(nodes), "--nemesis", "none",
					"--rate", "0", "--concurrency", concurrency, "--time-limit", strconv.Itoa(seconds),
					"--name", name, "--seed", strconv.Itoa(round), "--store", store)
				require.Equal(t, 0, r.code, "%s round %d must be valid:\n%s", name, round, r.stderr)
				h, err := harness.ReadJSONLFile(filepath.Join(latest(t, store), results.HistoryFile))
				require.NoError(t, err)
				f := measure(h)
				require.Positive(t, f.okOps, "%s round %d did nothing", name, round)
				t.Logf("round %d %s: %.0f ok ops/s, p50 %v, p99 %v", round, name, f.throughput, f.p50, f.p99)
				got[name] = append(got[name], f)
			}
		}
	}

	var table strings.Builder
	fmt.Fprintf(&table, "register workload, no faults, --rate 0, --concurrency %s, %d s per cell, median of %d round(s)\n", concurrency, seconds, rounds)
	fmt.Fprintf(&table, "%-6s %-12s %12s %10s %10s\n", "nodes", "target", "ok ops/s", "p50", "p99")
	for _, nodes := range nodeCounts {
		etcd, kv := median(got[cell("etcd", nodes)]), median(got[cell("kvnode", nodes)])
		for _, row := range []struct {
			name string
			f    benchFigures
		}{{"etcd", etcd}, {"kvnode", kv}} {
			fmt.Fprintf(&table, "%-6d %-12s %12.0f %10s %10s\n", nodes, row.name, row.f.throughput,
				row.f.p50.Round(10*time.Microsecond), row.f.p99.Round(10*time.Microsecond))
		}
		fmt.Fprintf(&table, "%-6d %-12s %11.2fx %9.2fx %9.2fx\n", nodes, "kvnode/etcd",
			kv.throughput/etcd.throughput, float64(kv.p50)/float64(etcd.p50), float64(kv.p99)/float64(etcd.p99))
	}
	t.Logf("\n%s", table.String())
	fmt.Print(table.String())
}
