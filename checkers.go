package faultline

import (
	"context"
	"fmt"
	"slices"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/checker/availability"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/workloads"
)

// workloadEnv is what the spec's workload is built from.
func workloadEnv(s Spec) workloads.Env {
	return workloads.Env{
		Prefix:       fmt.Sprintf("/faultline/%s/%d/", s.Workload, s.Seed),
		Seed:         s.Seed,
		Concurrency:  s.Concurrency,
		OpTimeout:    s.OpTimeout,
		CheckTimeout: s.CheckTimeout,
		Serializable: s.Serializable,
		Options:      s.WorkloadOptions,
	}
}

// newWorkload builds the spec's workload for one run. Every client of the
// run, final ones included, must come from the one it returns: they may
// share what it holds (lock-set's guarded set).
func newWorkload(s Spec) (workloads.Definition, workloads.Workload, error) {
	def, ok := LookupWorkload(s.Workload)
	if !ok {
		return def, nil, harness.BadValue("workload", s.Workload, "unknown workload")
	}
	w, err := def.New(workloadEnv(s))
	if err != nil {
		return def, nil, fmt.Errorf("workload %s: %w", s.Workload, err)
	}
	return def, w, nil
}

// Checkers lists every checker that judges a run of s stored in dir: the
// workload's own, then the cross-workload ones (stats; availability when
// the spec knows the cluster's size; the node logs, under
// dir/nodes, when dir is given). A spec read back from a store or a bare
// history works too: only the workload is required, and dir may be empty.
func Checkers(s Spec, dir string, extra ...targets.Target) ([]harness.Checker, error) {
	def, w, err := newWorkload(s)
	if err != nil {
		return nil, err
	}
	// The harness's recovery probes are for the availability checker
	// alone: no workload's model knows them.
	var checkers []harness.Checker
	all := append(w.Checkers(), checker.Stats{}, checker.Ops{})
	if def.Revisions {
		all = append(all, checker.Revisions{Writes: def.Writes, Serializable: s.Serializable})
	}
	for _, c := range all {
		checkers = append(checkers, hiding{Checker: c, fs: []string{harness.ProbeF}})
	}
	if dir != "" {
		checkers = append(checkers, logsChecker(s, dir, extra))
	}
	if s.Nodes < 1 {
		// A bare history: sides cannot be told without the cluster.
		return checkers, nil
	}
	if hashesReplicas(s, extra) {
		checkers = append(checkers, checker.Replicas{})
	}
	avail, err := availabilityChecker(s, def, extra)
	if err != nil {
		return nil, err
	}
	return append(checkers, avail), nil
}

// ImportedCheckers lists the checkers of a history faultline did not
// record, such as a Jepsen store's history.edn: the model it claims (the
// workload's checkers), its stats as information only (a run that never
// saw a cas succeed may still be linearizable), and whether it holds any
// client op at all.
func ImportedCheckers(s Spec) ([]harness.Checker, error) {
	_, w, err := newWorkload(s)
	if err != nil {
		return nil, err
	}
	return append(w.Checkers(), checker.Stats{Informational: true}, checker.Ops{}), nil
}

// hashesReplicas says whether a run of s hashes every member at the end:
// when its target's store takes HashKV.
func hashesReplicas(s Spec, extra []targets.Target) bool {
	t, err := resolveTarget(withTargetDefault(s), extra)
	return err == nil && slices.Contains(targets.MaintenanceCallsOf(t), targets.CallHashKV)
}

// logsChecker reads the node logs of the run in dir, with the target's
// own failing lines.
func logsChecker(s Spec, dir string, extra []targets.Target) harness.Checker {
	patterns := slices.Clone(checker.DefaultLogPatterns)
	if t, err := resolveTarget(withTargetDefault(s), extra); err == nil {
		if lp, ok := t.(targets.LogPatterner); ok {
			patterns = append(patterns, lp.FailingLogLines()...)
		}
	}
	return checker.Logs{Dir: dir, Patterns: patterns, Started: s.Started}
}

// availabilityChecker builds the availability checker of s: its nodes,
// its read mode, the workload's writes and the target's election timeout,
// from which the default grace period and gap bound follow.
func availabilityChecker(s Spec, def workloads.Definition, extra []targets.Target) (harness.Checker, error) {
	election := targets.DefaultElectionTimeout
	if t, err := resolveTarget(withTargetDefault(s), extra); err == nil {
		election = targets.ElectionTimeoutOf(t)
	}
	grace := s.AvailabilityGrace
	if grace <= 0 {
		grace = availability.DefaultGrace(election, s.OpTimeout)
	}
	bound := s.MajorityGapBound
	if bound <= 0 {
		bound = availability.DefaultMajorityGapBound(election, s.OpTimeout)
	}
	c, err := availability.New(availability.Config{
		Nodes:              nemesis.NodeNames(s.Nodes),
		Serializable:       s.Serializable,
		ElectionTimeout:    election,
		Grace:              grace,
		MajorityGapBound:   bound,
		QuorumRestoreBound: s.QuorumRestoreBound,
		RecoverBound:       s.RecoverTimeout,
		Writes:             def.Writes,
	})
	if err != nil {
		return nil, err
	}
	if len(def.Local) == 0 {
		return c, nil
	}
	return hiding{Checker: c, fs: def.Local}, nil
}

// withTargetDefault fills in the target a stored spec of an old run may
// lack.
func withTargetDefault(s Spec) Spec {
	if s.Target == "" {
		s.Target = DefaultTarget
	}
	return s
}

// hiding is a checker that judges a history without the client ops of
// some fs.
type hiding struct {
	harness.Checker
	fs []string
}

// Check passes the history without the hidden fs to the checker.
func (c hiding) Check(ctx context.Context, h harness.History, out string) harness.Result {
	kept := make(harness.History, 0, len(h))
	for _, op := range h {
		if !op.IsClient() || !slices.Contains(c.fs, op.F) {
			kept = append(kept, op)
		}
	}
	return c.Checker.Check(ctx, kept, out)
}
