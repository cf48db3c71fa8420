package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/checker/linearizable"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/etcd"
	"github.com/faultline/faultline/targets/kvnode"
	"github.com/faultline/faultline/workloads/register"
)

// allTargets are the stores faultline can test, in --help order.
var allTargets = []targets.Target{etcd.Target{}, kvnode.Target{}}

// workloadNames are the --workload values, in --help order.
var allWorkloads = []string{"register", "set", "bank", "lock-set", "lock-etcd-set", "watch"}

func targetNames() []string {
	names := make([]string, len(allTargets))
	for i, t := range allTargets {
		names[i] = t.Name()
	}
	return names
}

func workloadNames() []string { return allWorkloads }

// targetFor returns the spec's target, in its bug mode if one is given.
func targetFor(spec harness.Spec) targets.Target {
	if spec.Target == "kvnode" {
		return kvnode.Target{Bug: spec.TargetBug}
	}
	for _, t := range allTargets {
		if t.Name() == spec.Target {
			return t
		}
	}
	return nil
}

// validateTargetBug checks --target-bug: only kvnode has bug modes.
func validateTargetBug(target, bug string) error {
	switch {
	case bug == "":
		return nil
	case target == "kvnode":
		if err := kvnode.ValidateBug(bug); err != nil {
			return harness.BadFlag("target-bug", "%v", err)
		}
		return nil
	}
	return harness.BadFlag("target-bug", "target %s has no bug modes (kvnode has: %s), got %q", target, strings.Join(kvnode.BugModes, ", "), bug)
}

// newWorkload builds the spec's workload.
func newWorkload(spec harness.Spec) (harness.Workload, error) {
	switch spec.Workload {
	case "register":
		return register.New(register.Options{Check: linearizable.Options{Timeout: spec.CheckTimeout}})
	}
	return newExtraWorkload(spec)
}

// checkersFor lists every checker that judges a run of spec: the
// workload's own, then the cross-workload ones.
func checkersFor(spec harness.Spec) ([]harness.Checker, error) {
	w, err := newWorkload(spec)
	if err != nil {
		return nil, err
	}
	checkers := append(w.Checkers(), checker.Stats{})
	avail, ok, err := availabilityChecker(spec)
	if err != nil {
		return nil, err
	}
	if ok {
		checkers = append(checkers, avail)
	}
	return checkers, nil
}

// clientOpener returns the runner's OpenClient for spec: one clientv3
// client per thread, pinned to its node, or given every node of all when
// the node is harness.FailoverNode.
func clientOpener(spec harness.Spec, all []harness.Node) func(ctx context.Context, n harness.Node) (harness.Client, error) {
	// One workload for all the run's clients, final ones included: they
	// share what it holds (lock-set's guarded set).
	workload, werr := newWorkload(spec)
	return func(ctx context.Context, n harness.Node) (harness.Client, error) {
		endpoints, err := endpointsOf(n, all)
		if err != nil {
			return nil, err
		}
		cli, err := targets.OpenClient(ctx, endpoints, targets.ClientOpts{})
		if err != nil {
			return nil, err
		}
		switch spec.Workload {
		case "register":
			return register.NewClient(cli, n.Name, register.ClientOptions{Timeout: spec.OpTimeout, Serializable: spec.Serializable})
		}
		if m, ok := workload.(clientMaker); ok && werr == nil {
			c, err := m.NewClient(cli, n.Name)
			if err != nil {
				cli.Close()
				return nil, err
			}
			return c, nil
		}
		cli.Close()
		return nil, fmt.Errorf("no client for workload %q", spec.Workload)
	}
}
