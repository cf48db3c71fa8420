package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/client"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/results"
	"github.com/faultline/faultline/targets/docker"
)

// healthyTimeout bounds the wait for a freshly started cluster.
const healthyTimeout = 60 * time.Second

func testCommand(args []string) (int, error) {
	fs := newFlagSet("test", "test [flags]")
	var f testFlags
	f.register(fs)
	count := fs.Int("test-count", 1, "run the test this many times, each with the next seed, and print a table of the runs; the exit code is the worst verdict")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 {
		return 0, badInput{fmt.Errorf("unexpected argument %q: faultline test takes only flags (see --help)", fs.Arg(0))}
	}
	if *count < 1 || *count > 1000 {
		return 0, harness.BadFlag("test-count", "want a number of runs from 1 to 1000, got %d", *count)
	}
	var spec harness.Spec
	var err error
	if f.faults.replay != "" {
		// The replayed test.json is the whole spec; the flags only
		// name where it is stored.
		set := map[string]bool{}
		fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
		spec, err = replaySpec(f.faults.replay, set, &f)
	} else {
		spec, err = f.spec()
	}
	if err != nil {
		return 0, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *count == 1 {
		return runTest(ctx, spec)
	}
	// Repeated runs are a matrix whose cells differ only in their seed:
	// the same table, tally and worst-verdict exit code.
	cells := make([]matrixCell, *count)
	for i := range cells {
		cells[i].spec = spec
		cells[i].spec.Seed = spec.Seed + int64(i)
	}
	title := fmt.Sprintf("faultline test x%d: %s, seeds %d..%d", *count, spec.Name, spec.Seed, spec.Seed+int64(*count-1))
	return runMatrix(ctx, title, spec.Store, cells)
}

// logf reports progress on stderr, stamped with the wall clock.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// connectAndSweep opens the Docker engine and removes what dead runs left.
func connectAndSweep(ctx context.Context) (*client.Client, error) {
	cli, err := docker.Connect(ctx)
	if err != nil {
		return nil, err
	}
	report, err := docker.Sweep(ctx, cli, true)
	if n := len(report.Containers) + len(report.Networks); n > 0 {
		logf("swept %d containers and %d networks left by dead runs", len(report.Containers), len(report.Networks))
	}
	if err != nil {
		// What a dead run left is no reason to refuse this one; the
		// next sweep tries again.
		logf("warning: sweeping dead runs: %v", err)
	}
	return cli, nil
}

// runTest runs spec end to end in a test environment of its own.
func runTest(ctx context.Context, spec harness.Spec) (int, error) {
	env, err := newTestEnv(ctx)
	if err != nil {
		return 0, err
	}
	defer env.close()
	return env.runTest(ctx, spec)
}

// runTest runs spec end to end: images, cluster, workload with the nemesis,
// teardown, check. The cluster is torn down on every path out of it.
func (env *testEnv) runTest(ctx context.Context, spec harness.Spec) (int, error) {
	target := targetFor(spec)
	workload, err := newWorkload(spec)
	if err != nil {
		return 0, err
	}
	checkers, err := checkersFor(spec)
	if err != nil {
		return 0, err
	}
	cli := env.cli
	image, err := env.image(ctx, target)
	if err != nil {
		return 0, err
	}
	spec.Versions = map[string]string{"image": image}
	if spec.Replay == "" {
		spec.Schedule = nemesis.Schedule(scheduleOptions(spec), spec.TimeLimit, rand.New(rand.NewSource(spec.Seed)))
	}

	run, err := results.NewRun(spec.Store, spec.Name, time.Now())
	if err != nil {
		return 0, err
	}
	env.lastRun = run.Dir
	logf("run %s: %s on %d nodes, seed %d", run.Dir, spec.Target, spec.Nodes, spec.Seed)
	runID := strings.ToLower(strings.ReplaceAll(filepath.Base(run.Dir), ".", ""))
	started := time.Now()
	cluster, err := docker.NewCluster(ctx, cli, docker.ClusterConfig{RunID: runID, Target: target, Image: image, Nodes: spec.Nodes, Logf: logf})
	if err != nil {
		return 0, fmt.Errorf("create cluster: %w", err)
	}
	torndown := false
	teardown := func() error {
		if torndown {
			return nil
		}
		torndown = true
		lerr := cluster.CopyLogs(context.WithoutCancel(ctx), run.Dir)
		terr := cluster.Teardown(ctx)
		return errors.Join(lerr, terr)
	}
	defer func() {
		if err := teardown(); err != nil {
			logf("teardown: %v", err)
		}
	}()
	if err := checkKernel(ctx, cluster, &spec); err != nil {
		return 0, err
	}
	if err := cluster.WaitHealthy(ctx, healthyTimeout); err != nil {
		return 0, fmt.Errorf("cluster never became healthy: %w", err)
	}
	logf("cluster healthy %.1fs after the first container was created", time.Since(started).Seconds())
	spec.Cluster = cluster.Nodes()
	if err := run.WriteJSON(results.TestFile, spec); err != nil {
		return 0, err
	}

	rec, err := harness.NewRecorder(run.Path(results.HistoryFile))
	if err != nil {
		return 0, err
	}
	var nem harness.Nemesis
	if len(spec.Nemesis) > 0 {
		nem = nemesis.New()
	}
	progress := newProgress(spec.TimeLimit)
	rec.OnRecord = progress.record
	stopProgress := progress.start(os.Stderr)
	h, runErr := harness.Run(ctx, harness.RunConfig{
		Cluster: cluster, Concurrency: spec.Concurrency, Rate: spec.Rate,
		TimeLimit: spec.TimeLimit, OpTimeout: spec.OpTimeout, Seed: spec.Seed,
		Generator: workload.Generator(), OpenClient: clientOpener(spec, cluster.Nodes()),
		Place:   placement(spec.ClientMode),
		Nemesis: nem, Schedule: spec.Schedule, Recorder: rec,
		FinalOps: finalOps(workload, cluster.Nodes()),
		Recover: func(ctx context.Context) error {
			return cluster.WaitHealthy(ctx, spec.RecoverTimeout)
		},
		Logf: logf,
	})
	stopProgress()
	if err := rec.Close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if err := teardown(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	interrupted := ctx.Err() != nil

	checkCtx := ctx
	if interrupted {
		checkCtx = context.WithoutCancel(ctx)
	}
	logf("checking %d ops", len(h))
	checkStart := time.Now()
	rs := harness.CheckAll(checkCtx, h, run.Dir, checkers)
	logf("checked in %.1fs", time.Since(checkStart).Seconds())
	if err := writeResults(run, spec, rs); err != nil {
		return 0, err
	}
	reportStart := time.Now()
	if err := results.WriteReports(run.Dir, results.Report{Spec: spec, History: h, Results: rs, Started: started, Took: time.Since(started)}); err != nil {
		logf("warning: reports: %v", err)
	}
	logf("plots, timeline, junit.xml and history.edn written in %.1fs", time.Since(reportStart).Seconds())
	switch {
	case interrupted:
		return 0, fmt.Errorf("interrupted; the partial run was checked and stored in %s", run.Dir)
	case runErr != nil && rs.Valid != harness.ValidFalse:
		// An anomaly found is real even if the harness stumbled
		// afterwards; anything else cannot be trusted as a verdict.
		return 0, fmt.Errorf("run: %w", runErr)
	case runErr != nil:
		logf("the harness also failed: %v", runErr)
	}
	return rs.Valid.ExitCode(), nil
}

// writeResults stores results.json and summary.txt and prints the summary.
func writeResults(run *results.Run, spec harness.Spec, rs harness.Results) error {
	if err := run.WriteJSON(results.ResultsFile, rs); err != nil {
		return err
	}
	summary := results.Summary(spec, rs, run.Dir)
	if err := run.WriteFile(results.SummaryFile, []byte(summary)); err != nil {
		return err
	}
	fmt.Print(summary)
	return nil
}

func imagesCommand(args []string) (int, error) {
	fs := newFlagSet("images", "images")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli, err := docker.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	b := docker.NewBuilder(cli)
	b.Logf = logf
	for _, t := range allTargets {
		tag, err := t.Image(ctx, b)
		if err != nil {
			return 0, fmt.Errorf("image of %s: %w", t.Name(), err)
		}
		fmt.Printf("%s\t%s\n", t.Name(), tag)
	}
	return 0, nil
}

func cleanCommand(args []string) (int, error) {
	fs := newFlagSet("clean", "clean")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	ctx := context.Background()
	cli, err := docker.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	report, err := docker.Sweep(ctx, cli, false)
	fmt.Printf("removed %d containers and %d networks\n", len(report.Containers), len(report.Networks))
	return 0, err
}
