//go:build bench

package main

// The target benchmark: kvnode against etcd on the same register workload,
// with no faults and no rate limit, at 3 and 5 nodes, in one run. It runs
// each cell through the library (faultline.Env.Run) and reads its figures
// back as the comparison tables compute them (results.CellOf). Run it with `make bench`, or
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
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/results"
)

// benchFigures are one run's figures over its ok client ops, as the
// comparison tables compute them (results.CellOf): ok ops per second of
// the workload phase, and the p50 and p99 latency of ok ops.
type benchFigures struct {
	throughput float64
	p50, p99   time.Duration
}

// figuresOf reads a stored run's figures the way `faultline compare` does.
func figuresOf(t *testing.T, dir string) benchFigures {
	t.Helper()
	c, err := results.CellOf(dir)
	require.NoError(t, err)
	require.NotNil(t, c.LatencyP50Ms, "%s has no ok op", dir)
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	return benchFigures{throughput: c.OKPerSecond, p50: ms(*c.LatencyP50Ms), p99: ms(*c.LatencyP99Ms)}
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
	seconds := envInt(t, "FAULTLINE_BENCH_TIME", 20)
	rounds := envInt(t, "FAULTLINE_BENCH_ROUNDS", 1)
	concurrency := envInt(t, "FAULTLINE_BENCH_CONCURRENCY", 32)
	store := t.TempDir()
	ctx := context.Background()
	env, err := faultline.NewEnv(ctx, faultline.EnvOptions{Logf: t.Logf})
	require.NoError(t, err, "the benchmark needs a Docker engine")
	defer env.Close()
	nodeCounts := []int{3, 5}
	targetNames := []string{"etcd", "kvnode"}

	got := map[string][]benchFigures{}
	cell := func(target string, nodes int) string { return fmt.Sprintf("%s-n%d", target, nodes) }
	for round := 1; round <= rounds; round++ {
		for _, nodes := range nodeCounts {
			for _, target := range targetNames {
				name := cell(target, nodes)
				res, err := env.Run(ctx, faultline.Spec{
					Target: target, Nodes: nodes, Workload: "register", Rate: 0, Concurrency: concurrency,
					TimeLimit: time.Duration(seconds) * time.Second, Name: name, Seed: int64(round), Store: store,
				})
				faultline.RequireValid(t, res, err)
				f := figuresOf(t, res.Dir)
				t.Logf("round %d %s: %.0f ok ops/s, p50 %v, p99 %v", round, name, f.throughput, f.p50, f.p99)
				got[name] = append(got[name], f)
			}
		}
	}

	var table strings.Builder
	fmt.Fprintf(&table, "register workload, no faults, --rate 0, --concurrency %d, %d s per cell, median of %d round(s)\n", concurrency, seconds, rounds)
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
