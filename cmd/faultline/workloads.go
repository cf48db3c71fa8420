package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/bank"
	"github.com/faultline/faultline/workloads/lock"
	"github.com/faultline/faultline/workloads/set"
	"github.com/faultline/faultline/workloads/watch"
)

// workloadFlags are the flags that shape the workloads beyond register.
type workloadFlags struct {
	setMode string
	lockTTL float64
}

func (f *workloadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.setMode, "set-mode", set.ModeKeys, "how the set workload stores its set: keys (a key per element, an add is a Put) or append (one key, an add is a CAS-append guarded by its mod revision)")
	fs.Float64Var(&f.lockTTL, "lock-ttl", lock.DefaultTTL.Seconds(), "session lease TTL of lock-set and lock-etcd-set, in whole seconds (at least 1)")
}

// apply validates the workload flags against the rest of s (workload,
// target and concurrency already checked) and records them in s.
func (f *workloadFlags) apply(s *harness.Spec) error {
	if !slices.Contains(set.Modes, f.setMode) {
		return harness.BadFlag("set-mode", "unknown mode %q: want %s", f.setMode, strings.Join(set.Modes, " or "))
	}
	if f.lockTTL < 1 || f.lockTTL != math.Trunc(f.lockTTL) {
		return harness.BadFlag("lock-ttl", "must be a whole number of seconds, at least 1 (etcd grants leases in whole seconds), got %v", f.lockTTL)
	}
	switch s.Workload {
	case "set":
		s.SetMode = f.setMode
	case lock.VariantMemory, lock.VariantEtcd:
		s.LockTTL = seconds(f.lockTTL)
	case "watch":
		if s.Concurrency < 2 {
			return harness.BadFlag("concurrency", "the watch workload needs at least 2 client threads (half watch, the others write), got %d", s.Concurrency)
		}
	}
	return workloadOnTarget(s.Workload, s.Target)
}

// workloadNeeds lists the etcd APIs beyond KV that a workload relies on.
var workloadNeeds = map[string][]string{
	lock.VariantMemory: {"Lease", "Watch"},
	lock.VariantEtcd:   {"Lease", "Watch"},
	"watch":            {"Watch"},
}

// targetLacks lists the etcd APIs a target does not implement: kvnode
// answers Unimplemented to Watch and Lease (kvnode/README.md).
var targetLacks = map[string][]string{"kvnode": {"Watch", "Lease"}}

// workloadOnTarget refuses a workload the target cannot serve, before
// anything is started.
func workloadOnTarget(workload, target string) error {
	missing := missingAPIs(workload, target)
	if len(missing) == 0 {
		return nil
	}
	var able []string
	for _, w := range allWorkloads {
		if len(missingAPIs(w, target)) == 0 {
			able = append(able, w)
		}
	}
	apis := "API"
	if len(missing) > 1 {
		apis = "APIs"
	}
	return harness.BadFlag("workload", "%s needs etcd's %s %s, which target %s does not implement (see kvnode/README.md); run it against --target etcd, or pick a workload %s serves: %s",
		workload, strings.Join(missing, " and "), apis, target, target, strings.Join(able, ", "))
}

// missingAPIs lists the APIs workload needs that target lacks.
func missingAPIs(workload, target string) []string {
	var missing []string
	for _, api := range workloadNeeds[workload] {
		if slices.Contains(targetLacks[target], api) {
			missing = append(missing, api)
		}
	}
	return missing
}

// newExtraWorkload builds a workload beyond register. Its keys live under
// /faultline/<workload>/<seed>/.
func newExtraWorkload(spec harness.Spec) (harness.Workload, error) {
	prefix := fmt.Sprintf("/faultline/%s/%d/", spec.Workload, spec.Seed)
	switch spec.Workload {
	case "set":
		mode := spec.SetMode
		if mode == "" {
			mode = set.ModeKeys
		}
		return set.New(set.Options{Client: set.ClientOptions{Prefix: prefix, Mode: mode, Timeout: spec.OpTimeout, Serializable: spec.Serializable}})
	case "bank":
		return bank.New(bank.Options{Client: bank.ClientOptions{Prefix: prefix, Timeout: spec.OpTimeout, Serializable: spec.Serializable}})
	case lock.VariantMemory, lock.VariantEtcd:
		return lock.New(lock.Options{Variant: spec.Workload, Client: lock.ClientOptions{Prefix: prefix, TTL: spec.LockTTL, Timeout: spec.OpTimeout, Serializable: spec.Serializable}})
	case "watch":
		// A bare history re-checked without its test.json has no
		// concurrency; the checker does not need it.
		return watch.New(watch.Options{Concurrency: max(spec.Concurrency, 2), Client: watch.ClientOptions{Key: prefix + "key", Timeout: spec.OpTimeout}})
	}
	return nil, harness.BadFlag("workload", "unknown workload %q", spec.Workload)
}

// finalOps are the reads a workload takes after the final heal, if it
// takes any (harness.Finisher).
func finalOps(w harness.Workload, nodes []harness.Node) []harness.Op {
	if f, ok := w.(harness.Finisher); ok {
		return f.FinalOps(nodes)
	}
	return nil
}

// clientMaker is a workload that builds its clients over a clientv3
// client it is handed.
type clientMaker interface {
	NewClient(cli *clientv3.Client, node string) (harness.Client, error)
}

// availabilityFs says how the availability checker reads a workload's ops:
// writes change state in the store; local ops need no quorum (lock-set's
// add works on the harness's memory; a watch op on a node cut off may end
// ok and empty) and are hidden from it, since an ok one on a minority
// proves nothing. Workloads not listed use the checker's defaults.
var availabilityFs = map[string]struct{ writes, local []string }{
	"set":              {writes: []string{set.Add}},
	"bank":             {writes: []string{bank.Init, bank.Transfer}},
	lock.VariantMemory: {writes: []string{lock.Acquire, lock.Release}, local: []string{lock.Add}},
	lock.VariantEtcd:   {writes: []string{lock.Acquire, lock.Add, lock.Release}},
	"watch":            {writes: []string{watch.Write}, local: []string{watch.Watch, watch.FinalWatch}},
}

// availabilityWrites are the fs of workload that change state; nil means
// the availability checker's defaults (the register's).
func availabilityWrites(workload string) []string { return availabilityFs[workload].writes }

// withoutLocalOps hides workload's local ops from c, or returns c as it is
// if there are none.
func withoutLocalOps(c harness.Checker, workload string) harness.Checker {
	local := availabilityFs[workload].local
	if len(local) == 0 {
		return c
	}
	return hiding{Checker: c, fs: local}
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
