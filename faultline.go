// Package faultline runs Jepsen-style tests of raft key-value stores: it
// builds the images, starts a real cluster in Docker containers, drives
// concurrent clients through etcd's v3 client while a nemesis partitions,
// kills, pauses and crashes nodes and changes the membership, records
// every op, checks the history (linearizability, availability per side of
// each fault, the workload's own invariants) and stores the run.
//
// It is the one entry point: `faultline test`, `--test-count`, `matrix`,
// `scenario`, `make bench`, the end-to-end tests and a user's own
// `go test` all call Run (or Env.Run). A minimal test of a store of one's
// own:
//
//	func TestMyStore(t *testing.T) {
//		res, err := faultline.Run(context.Background(), faultline.Spec{
//			Target: "mystore", Nodes: 3, Workload: "register",
//			Nemesis: []string{"partition"}, TimeLimit: 30 * time.Second,
//		}, faultline.EnvOptions{Targets: []targets.Target{myTarget}})
//		faultline.RequireValid(t, res, err)
//	}
//
// The registries are plain slices: Workloads, and the fault kinds of
// package fault (fault.All); BuiltinTargets lists the stores faultline
// knows, and EnvOptions.Targets adds one's own.
package faultline

import (
	"slices"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/etcd"
	"github.com/faultline/faultline/targets/kvnode"
	"github.com/faultline/faultline/workloads"
	"github.com/faultline/faultline/workloads/bank"
	"github.com/faultline/faultline/workloads/lock"
	"github.com/faultline/faultline/workloads/register"
	"github.com/faultline/faultline/workloads/set"
	"github.com/faultline/faultline/workloads/watch"
)

// Spec is the whole description of one test (see harness.Spec): what
// `faultline test` builds from its flags and test.json stores.
type Spec = harness.Spec

// Workloads lists every workload, in --help order.
var Workloads = []workloads.Definition{
	register.Definition,
	set.Definition,
	bank.Definition,
	lock.SetDefinition,
	lock.EtcdSetDefinition,
	watch.Definition,
}

// BuiltinTargets lists the stores faultline knows, in --help order: real
// etcd and kvnode, faultline's own raft KV.
func BuiltinTargets() []targets.Target {
	return []targets.Target{etcd.Target{}, kvnode.Target{}}
}

// WorkloadNames lists the names of Workloads.
func WorkloadNames() []string {
	names := make([]string, len(Workloads))
	for i, w := range Workloads {
		names[i] = w.Name
	}
	return names
}

// LookupWorkload finds a workload by name.
func LookupWorkload(name string) (workloads.Definition, bool) {
	i := slices.IndexFunc(Workloads, func(w workloads.Definition) bool { return w.Name == name })
	if i < 0 {
		return workloads.Definition{}, false
	}
	return Workloads[i], true
}

// WorkloadOptions lists the options of every workload, each once, in
// Workloads order.
func WorkloadOptions() []harness.Option {
	var out []harness.Option
	for _, w := range Workloads {
		for _, o := range w.Options {
			if !slices.ContainsFunc(out, func(x harness.Option) bool { return x.Name == o.Name }) {
				out = append(out, o)
			}
		}
	}
	return out
}

// allTargets is the built-in targets with extra, a user's own, first: a
// user's target of a built-in's name replaces it.
func allTargets(extra []targets.Target) []targets.Target {
	out := slices.Clone(extra)
	for _, t := range BuiltinTargets() {
		if !slices.ContainsFunc(out, func(x targets.Target) bool { return x.Name() == t.Name() }) {
			out = append(out, t)
		}
	}
	return out
}

// TargetNames lists the names of the built-in targets and extra.
func TargetNames(extra ...targets.Target) []string {
	var names []string
	for _, t := range allTargets(extra) {
		names = append(names, t.Name())
	}
	return names
}
