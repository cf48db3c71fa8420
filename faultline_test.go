package faultline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/etcd"
	"github.com/faultline/faultline/workloads"
)

// plainTarget is a store that cannot rejoin a wiped node: it hides etcd's
// optional powers.
type plainTarget struct{ targets.Target }

func (plainTarget) Name() string { return "plain" }

func TestTargetCanDo(t *testing.T) {
	assert.NoError(t, targetCanDo(etcd.Target{}, []string{"member", "pause", "crash"}))
	assert.NoError(t, targetCanDo(plainTarget{etcd.Target{}}, []string{"pause", "crash", "loss"}))
	err := targetCanDo(plainTarget{etcd.Target{}}, []string{"kill", "member"})
	assert.ErrorContains(t, err, "cannot take the fault member")
	_, err = Validate(Spec{Target: "plain", Nodes: 5, Nemesis: []string{"member"}}, plainTarget{etcd.Target{}})
	assert.ErrorContains(t, err, "cannot take the fault member", "a user's own target is held to the same needs")
}

// TestEveryWorkloadIsComplete walks the registry: every workload has a
// name, a summary, a constructor, the writes the availability checker
// needs, options whose defaults their own checks accept, and builds with
// its defaults into a workload whose checkers exist and whose final ops,
// if any, name real nodes.
func TestEveryWorkloadIsComplete(t *testing.T) {
	nodes := []harness.Node{{Name: "n1"}, {Name: "n2"}, {Name: "n3"}}
	seen := map[string]bool{}
	for _, def := range Workloads {
		assert.NotEmpty(t, def.Name)
		assert.False(t, seen[def.Name], "%s is listed twice", def.Name)
		seen[def.Name] = true
		assert.NotEmpty(t, def.Summary, def.Name)
		assert.NotEmpty(t, def.Writes, "%s: the availability checker must know its writes", def.Name)
		require.NotNil(t, def.New, def.Name)
		for _, o := range def.Options {
			assert.NoError(t, o.Validate(o.Default), "%s: option %s refuses its default", def.Name, o.Name)
			assert.NotEmpty(t, o.Usage, "%s: option %s", def.Name, o.Name)
		}
		for _, f := range def.Local {
			assert.NotContains(t, def.Writes, f, "%s: %s is both a write and local", def.Name, f)
		}
		spec := Spec{Workload: def.Name, Seed: 7, Concurrency: 6, OpTimeout: time.Second, CheckTimeout: time.Second}
		_, w, err := newWorkload(spec)
		require.NoError(t, err, def.Name)
		assert.Equal(t, def.Name, w.Name())
		assert.NotEmpty(t, w.Checkers(), def.Name)
		ops := workloads.FinalOps(w, nodes)
		if def.Name != "lock-set" {
			assert.Len(t, ops, len(nodes), "%s reads every node after the heal", def.Name)
		}
		for _, op := range ops {
			_, ok := harness.NodeByName(nodes, op.Node)
			assert.True(t, ok, "%s: final op on %q", def.Name, op.Node)
		}
	}
	_, _, err := newWorkload(Spec{Workload: "queue"})
	var fe *harness.FlagError
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "workload", fe.Flag)
}

// seen is a checker that remembers the history it was given.
type seen struct{ h *harness.History }

func (seen) Name() string { return "seen" }
func (s seen) Check(_ context.Context, h harness.History, _ string) harness.Result {
	*s.h = h
	return harness.Result{}
}

// TestAvailabilitySeesOnlyQuorumOps: lock-set's in-memory adds and the
// watch ops never reach the availability checker, whose writes are each
// workload's own.
func TestAvailabilitySeesOnlyQuorumOps(t *testing.T) {
	h := harness.History{
		{Index: 0, Process: 0, Type: harness.Invoke, F: "acquire"},
		{Index: 1, Process: 0, Type: harness.OK, F: "acquire"},
		{Index: 2, Process: 0, Type: harness.Invoke, F: "add"},
		{Index: 3, Process: harness.NemesisProcess, Type: harness.Invoke, F: "add"},
		{Index: 4, Process: 0, Type: harness.OK, F: "add"},
	}
	lockSet, _ := LookupWorkload("lock-set")
	lockEtcd, _ := LookupWorkload("lock-etcd-set")
	var got harness.History
	c := hiding{Checker: seen{&got}, fs: lockSet.Local}
	assert.Equal(t, "seen", c.Name())
	c.Check(context.Background(), h, "")
	assert.Equal(t, []int{0, 1, 3}, indexes(got), "the in-memory adds are hidden, the nemesis is not")
	assert.Empty(t, lockEtcd.Local, "lock-etcd-set's adds are writes to etcd")
	register, _ := LookupWorkload("register")
	bank, _ := LookupWorkload("bank")
	assert.Equal(t, []string{"write", "cas"}, register.Writes)
	assert.Equal(t, []string{"init", "transfer"}, bank.Writes)

	spec := Spec{Workload: "watch", Nodes: 3, OpTimeout: time.Second, CheckTimeout: time.Second}
	checkers, err := Checkers(spec, "")
	require.NoError(t, err)
	hidden := false
	for _, c := range checkers {
		if _, ok := c.(hiding); ok && c.Name() == "availability" {
			hidden = true
		}
	}
	assert.True(t, hidden, "watch ops are hidden from the availability checker")
}

func indexes(h harness.History) []int {
	out := make([]int, len(h))
	for i, op := range h {
		out[i] = op.Index
	}
	return out
}

func TestPlacementModes(t *testing.T) {
	nodes := []harness.Node{{Name: "n1"}, {Name: "n2"}, {Name: "n3"}}
	assert.Nil(t, placement(ModePinned), "pinned is the runner's default")
	failover := placement(ModeFailover)
	assert.Equal(t, harness.FailoverNode, failover(0, nodes).Name)
	mixed := placement(ModeMixed)
	var got []string
	for i := 0; i < 6; i++ {
		got = append(got, mixed(i, nodes).Name)
	}
	assert.Equal(t, []string{"n1", "all", "n2", "all", "n3", "all"}, got, "pinned threads cover every node")

	eps, err := endpointsOf(harness.Node{Name: harness.FailoverNode}, []harness.Node{{Endpoint: "a"}, {Endpoint: "b"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, eps)
	eps, err = endpointsOf(harness.Node{Name: "n1", Endpoint: "a"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, eps)
	_, err = Validate(Spec{ClientMode: "sideways"})
	assert.ErrorContains(t, err, "--client-mode")
}

func TestCheckKernelSkipsPlainFaults(t *testing.T) {
	// No loss, bandwidth or delay: no probe, so a nil cluster is never
	// touched.
	s := Spec{Nemesis: []string{"partition", "kill"}}
	assert.NoError(t, checkKernel(context.Background(), nil, &s, func(string, ...any) {}))
}

// TestValidateFillsDefaults: a Go test's spec may leave out what the
// flags default.
func TestValidateFillsDefaults(t *testing.T) {
	s, err := Validate(Spec{Nemesis: []string{"kill"}})
	require.NoError(t, err)
	assert.Equal(t, "etcd", s.Target)
	assert.Equal(t, 5, s.Nodes)
	assert.Equal(t, 10, s.Concurrency)
	assert.Equal(t, "etcd-register", s.Name)
	assert.Equal(t, DefaultNemesisInterval, s.NemesisInterval)
	assert.Equal(t, "one", s.FaultTargets["pause"])
	assert.Equal(t, harness.Options{"kill-count": "0"}, s.FaultOptions)
	assert.NotZero(t, s.Seed)
	assert.Zero(t, s.Rate, "zero is unlimited, not a default")
}

// TestScenariosAreValid: every scenario's spec passes the one validation
// path, names are unique, and an expected anomaly names its checkers.
func TestScenariosAreValid(t *testing.T) {
	names := map[string]bool{}
	for _, sc := range Scenarios {
		assert.False(t, names[sc.Name], "%s twice", sc.Name)
		names[sc.Name] = true
		assert.NotEmpty(t, sc.Summary, sc.Name)
		_, err := Validate(sc.Spec)
		assert.NoError(t, err, sc.Name)
		assert.Equal(t, sc.Expect == harness.ValidFalse, len(sc.Caught) > 0, "%s: an invalid expectation names its checkers, a valid one none", sc.Name)
	}
	sc, ok := LookupScenario("kvnode-stale-read")
	require.True(t, ok)
	res := Result{Results: harness.Results{Valid: harness.ValidFalse, Checkers: map[string]harness.Result{"linearizable": {Valid: harness.ValidFalse}}}}
	assert.NoError(t, sc.Check(res))
	res.Results.Checkers["linearizable"] = harness.Result{Valid: harness.ValidTrue}
	assert.ErrorContains(t, sc.Check(res), "not through linearizable")
	res.Results.Valid = harness.ValidTrue
	assert.ErrorContains(t, sc.Check(res), "verdict VALID, want INVALID")
}

// TestWorkloadOnATargetWithoutItsAPIs: a target that lacks Lease and Watch
// is refused the workloads that need them, naming the APIs, the targets
// that serve them and the workloads it can serve.
func TestWorkloadOnATargetWithoutItsAPIs(t *testing.T) {
	kvOnly := targets.Custom{TargetName: "kvonly", LocalImage: "x", Args: func(harness.Node, []harness.Node, targets.ClusterState) []string { return nil },
		Serves: []harness.API{harness.APITxn}}
	_, err := Validate(Spec{Target: "kvonly", Workload: "lock-set"}, kvOnly)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--workload")
	assert.Contains(t, err.Error(), "Lease and Watch APIs, which target kvonly does not implement")
	assert.Contains(t, err.Error(), "run it against --target etcd or kvnode")
	assert.Contains(t, err.Error(), "register, set, bank")
	_, err = Validate(Spec{Target: "kvonly", Workload: "register"}, kvOnly)
	assert.NoError(t, err)
}
