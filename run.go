package faultline

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/results"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/docker"
	"github.com/faultline/faultline/workloads"
)

// HealthyTimeout bounds the wait for a freshly started cluster. A cluster
// that is not healthy by then is a harness failure, not a finding: nothing
// has been tested yet.
const HealthyTimeout = 60 * time.Second

// Result is what one run produced.
type Result struct {
	// Dir is the run's directory in the store; empty if the run never got
	// one (bad input, no Docker engine).
	Dir string
	// Spec is the test as run: defaults filled in, the schedule drawn,
	// the image tags and the cluster's addresses recorded.
	Spec Spec
	// Results holds every checker's verdict and the merged one.
	Results harness.Results
	// Summary is what summary.txt holds: the first thing to read.
	Summary string
	// History is every op recorded.
	History harness.History
	// Interrupted says the run was cut short (its context was cancelled):
	// the partial history was checked and stored all the same.
	Interrupted bool
}

// Valid is the run's merged verdict.
func (r Result) Valid() harness.Valid { return r.Results.Valid }

// Run runs s end to end in e: validation, the image, the cluster, the
// workload with the nemesis alongside, the final phase, the teardown, the
// check, and the run's files in the store. The cluster is torn down on
// every path out of it, including a panic of the nemesis or of a client
// and a cancelled ctx.
//
// The error reports bad input (a *harness.FlagError, before anything is
// started) or a failure of the harness itself; an anomaly of the store
// is a verdict, never an error. When the harness failed after the run was
// stored, Result.Dir names it; an invalid verdict found before the
// failure is returned with a nil error, since the anomaly is real.
func (e *Env) Run(ctx context.Context, s Spec) (Result, error) {
	s, err := e.Validate(s)
	res := Result{Spec: s}
	if err != nil {
		return res, err
	}
	target, err := resolveTarget(s, e.opts.Targets)
	if err != nil {
		return res, err
	}
	_, workload, err := newWorkload(s)
	if err != nil {
		return res, err
	}
	image, err := e.Image(ctx, target)
	if err != nil {
		return res, err
	}
	if err := checkFailpointNames(ctx, s, target); err != nil {
		return res, err
	}
	s.Versions = map[string]string{"image": image}
	if len(s.Schedule) == 0 {
		s.Schedule = nemesis.Schedule(scheduleOptions(s), s.TimeLimit, rand.New(rand.NewSource(s.Seed)))
	}
	run, err := results.NewRun(s.Store, s.Name, time.Now())
	if err != nil {
		return res, err
	}
	res.Dir = run.Dir
	logf := e.opts.Logf
	logf("run %s: %s on %d nodes, seed %d", run.Dir, s.Target, s.Nodes, s.Seed)
	runID := strings.ToLower(strings.ReplaceAll(filepath.Base(run.Dir), ".", ""))
	started := time.Now()
	cluster, err := docker.NewCluster(ctx, e.cli, docker.ClusterConfig{RunID: runID, Target: target, Image: image, Nodes: s.Nodes, Logf: logf})
	if err != nil {
		return res, fmt.Errorf("create cluster: %w", err)
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
	if err := checkKernel(ctx, cluster, &s, logf); err != nil {
		return res, err
	}
	if err := cluster.WaitHealthy(ctx, HealthyTimeout); err != nil {
		return res, fmt.Errorf("cluster never became healthy: %w", err)
	}
	logf("cluster healthy %.1fs after the first container was created", time.Since(started).Seconds())
	s.Cluster = cluster.Nodes()
	recordBuilds(ctx, cluster, target, &s, logf)
	rec, err := harness.NewRecorder(run.Path(results.HistoryFile))
	if err != nil {
		return res, err
	}
	s.Started = rec.Start()
	res.Spec = s
	if err := run.WriteJSON(results.TestFile, s); err != nil {
		return res, err
	}
	checkers, err := Checkers(s, run.Dir, e.opts.Targets...)
	if err != nil {
		return res, err
	}
	var nem harness.Nemesis
	if len(s.Nemesis) > 0 || len(s.Schedule) > 0 {
		nem = nemesis.New()
	}
	stopProgress := func() {}
	if e.opts.Progress != nil {
		var record func(harness.Op)
		record, stopProgress = e.opts.Progress(s)
		rec.OnRecord = record
	}
	h, runErr := harness.Run(ctx, harness.RunConfig{
		Cluster: cluster, Concurrency: s.Concurrency, Rate: s.Rate,
		TimeLimit: s.TimeLimit, OpTimeout: s.OpTimeout, Seed: s.Seed,
		Generator: workload.Generator(), OpenClient: clientOpener(workload, cluster.Nodes()),
		Place:   placement(s.ClientMode),
		Nemesis: nem, Schedule: s.Schedule, Recorder: rec,
		FinalOps:  workloads.FinalOps(workload, cluster.Nodes()),
		Recover:   cluster.StartAll,
		OpenProbe: openProbe, RecoverTimeout: s.RecoverTimeout,
		HashReplicas: hashesReplicas(s, e.opts.Targets),
		Logf:         logf,
	})
	stopProgress()
	if err := rec.Close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if err := teardown(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	res.History = h
	res.Interrupted = ctx.Err() != nil
	checkCtx := ctx
	if res.Interrupted {
		checkCtx = context.WithoutCancel(ctx)
	}
	logf("checking %d ops", len(h))
	checkStart := time.Now()
	res.Results = harness.CheckAll(checkCtx, h, run.Dir, checkers)
	logf("checked in %.1fs", time.Since(checkStart).Seconds())
	if err := run.WriteJSON(results.ResultsFile, res.Results); err != nil {
		return res, err
	}
	res.Summary = results.Summary(s, res.Results, run.Dir)
	if err := run.WriteFile(results.SummaryFile, []byte(res.Summary)); err != nil {
		return res, err
	}
	reportStart := time.Now()
	if err := results.WriteReports(run.Dir, results.Report{Spec: s, History: h, Results: res.Results, Started: started, Took: time.Since(started)}); err != nil {
		logf("warning: reports: %v", err)
	}
	logf("plots, timeline, junit.xml and history.edn written in %.1fs", time.Since(reportStart).Seconds())
	switch {
	case res.Interrupted:
		return res, nil
	case runErr != nil && res.Results.Valid != harness.ValidFalse:
		// An anomaly found is real even if the harness stumbled
		// afterwards; anything else cannot be trusted as a verdict.
		return res, fmt.Errorf("run: %w", runErr)
	case runErr != nil:
		logf("the harness also failed: %v", runErr)
	}
	return res, nil
}

// scheduleOptions are the nemesis options s's schedule is drawn with.
func scheduleOptions(s Spec) nemesis.Options {
	return nemesis.Options{
		Faults: s.Nemesis, Nodes: s.Nodes, Layout: s.Partition,
		FaultTargets: s.FaultTargets, FaultOptions: s.FaultOptions,
		Interval: s.NemesisInterval,
	}
}

// clientOpener returns the runner's OpenClient: one clientv3 client per
// thread, pinned to its node, or given every node of all when the node is
// harness.FailoverNode, wrapped in the workload's client.
func clientOpener(w workloads.Workload, all []harness.Node) func(ctx context.Context, n harness.Node) (harness.Client, error) {
	return func(ctx context.Context, n harness.Node) (harness.Client, error) {
		endpoints, err := endpointsOf(n, all)
		if err != nil {
			return nil, err
		}
		cli, err := targets.OpenClient(ctx, endpoints, targets.ClientOpts{})
		if err != nil {
			return nil, err
		}
		c, err := w.NewClient(cli, n.Name)
		if err != nil {
			cli.Close()
			return nil, err
		}
		return c, nil
	}
}

// placement returns the runner's Place for a client mode.
func placement(mode string) func(thread int, nodes []harness.Node) harness.Node {
	failover := harness.Node{Name: harness.FailoverNode}
	switch mode {
	case ModeFailover:
		return func(int, []harness.Node) harness.Node { return failover }
	case ModeMixed:
		return func(i int, nodes []harness.Node) harness.Node {
			if i%2 == 1 {
				return failover
			}
			return nodes[(i/2)%len(nodes)]
		}
	}
	return nil
}

// endpointsOf returns the endpoints a client on n is given: n's own, or
// every node's for a failover client.
func endpointsOf(n harness.Node, all []harness.Node) ([]string, error) {
	if n.Name != harness.FailoverNode {
		return []string{n.Endpoint}, nil
	}
	eps := make([]string, len(all))
	for i, m := range all {
		eps[i] = m.Endpoint
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("failover client: the cluster has no nodes")
	}
	return eps, nil
}

// checkKernel asks a node what the kernel under the cluster offers, when
// s enables or schedules a fault that needs more than plain iptables
// (fault.Kind.Kernel). It logs the answer and records it in
// s.Versions["kernel"]. A fault the kernel cannot inject (delay without
// netem, on this machine) is bad input: the message says what is missing
// and what the kernel offers instead, and the caller tears the cluster
// down without running anything.
func checkKernel(ctx context.Context, c harness.Cluster, s *Spec, logf func(string, ...any)) error {
	faults := append(slices.Clone(s.Nemesis), nemesis.ScheduleFaults(s.Schedule)...)
	needs := slices.ContainsFunc(faults, func(name string) bool {
		k, _ := fault.Lookup(name)
		return k.Kernel != ""
	})
	if !needs {
		return nil
	}
	k, err := nemesis.Probe(ctx, c, c.Nodes()[0])
	if err != nil {
		return err
	}
	logf("kernel: %s", k)
	if s.Versions == nil {
		s.Versions = map[string]string{}
	}
	s.Versions["kernel"] = k.String()
	if err := k.Check(faults); err != nil {
		return harness.BadFlag("nemesis", "%v", err)
	}
	return nil
}

// recordBuilds asks the first node of each build what it runs (the
// store's own --version) and records it in s.Versions, so that test.json
// says exactly what was tested.
func recordBuilds(ctx context.Context, c harness.Cluster, t targets.Target, s *Spec, logf func(string, ...any)) {
	r, ok := t.(targets.VersionReporter)
	if !ok {
		return
	}
	if s.Versions == nil {
		s.Versions = map[string]string{}
	}
	done := map[string]bool{}
	for _, n := range s.Cluster {
		if n.Version == "" || done[n.Version] {
			continue
		}
		done[n.Version] = true
		out, err := c.Exec(ctx, n, r.VersionCommand(n.Version)...)
		if err != nil {
			logf("warning: the version of %s on %s: %v", n.Version, n.Name, err)
			continue
		}
		s.Versions[t.Name()+" "+n.Version] = strings.TrimSpace(out)
		logf("%s %s: %s", t.Name(), n.Version, strings.ReplaceAll(strings.TrimSpace(out), "\n", "; "))
	}
}

// checkFailpointNames refuses, before anything starts, a --failpoints list
// naming a failpoint that a release the nodes run does not have: the
// fault would arm something else, or nothing, on the nodes of that
// release. It asks the target, which knows its releases' sources.
func checkFailpointNames(ctx context.Context, s Spec, t targets.Target) error {
	list := s.FaultOptions["failpoints"]
	fc, ok := t.(targets.FailpointChecker)
	if !ok || list == "" || list == "crash" || !slices.Contains(s.Nemesis, "failpoint") {
		return nil
	}
	fps, err := fault.ParseFailpoints(list)
	if err != nil {
		return harness.BadValue("failpoints", list, "%v", err)
	}
	names := make([]string, len(fps))
	for i, f := range fps {
		names[i] = f.Name
	}
	if err := fc.CheckFailpoints(ctx, names); err != nil {
		return harness.BadValue("failpoints", list, "%v", err)
	}
	return nil
}
