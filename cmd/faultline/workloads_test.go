package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// TestWorkloadFlags: the workload flags land in the spec, and what a
// target cannot serve or a flag does not allow is bad input naming the
// flag.
func TestWorkloadFlags(t *testing.T) {
	s, err := specOf(t, "--workload", "set", "--set-mode", "append")
	require.NoError(t, err)
	assert.Equal(t, "append", s.SetMode)
	s, err = specOf(t, "--workload", "lock-etcd-set", "--lock-ttl", "5")
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, s.LockTTL)
	s, err = specOf(t, "--workload", "lock-set")
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, s.LockTTL, "the default TTL")
	_, err = specOf(t, "--target", "kvnode", "--workload", "bank")
	require.NoError(t, err, "kvnode serves the bank")

	for _, bad := range []struct {
		args []string
		flag string
		msg  string
	}{
		{[]string{"--target", "kvnode", "--workload", "watch"}, "workload", "Watch API"},
		{[]string{"--target", "kvnode", "--workload", "lock-set"}, "workload", "Lease and Watch APIs"},
		{[]string{"--workload", "set", "--set-mode", "tree"}, "set-mode", "keys or append"},
		{[]string{"--workload", "lock-set", "--lock-ttl", "0"}, "lock-ttl", "whole number"},
		{[]string{"--workload", "watch", "--concurrency", "1"}, "concurrency", "at least 2"},
	} {
		_, err := specOf(t, bad.args...)
		var fe *harness.FlagError
		require.True(t, errors.As(err, &fe), "%v: %v", bad.args, err)
		assert.Equal(t, bad.flag, fe.Flag, bad.args)
		assert.Contains(t, fe.Msg, bad.msg, bad.args)
	}
}

// TestEveryWorkloadBuilds: every --workload value makes a workload whose
// clients the CLI can open and whose final ops, if any, name real nodes.
func TestEveryWorkloadBuilds(t *testing.T) {
	nodes := []harness.Node{{Name: "n1"}, {Name: "n2"}, {Name: "n3"}}
	for _, name := range allWorkloads {
		spec := harness.Spec{Workload: name, Seed: 7, Concurrency: 6, OpTimeout: time.Second, CheckTimeout: time.Second}
		w, err := newWorkload(spec)
		require.NoError(t, err, name)
		assert.Equal(t, name, w.Name())
		assert.NotEmpty(t, w.Checkers(), name)
		if name == "register" {
			continue
		}
		_, ok := w.(clientMaker)
		assert.True(t, ok, "%s builds its own clients", name)
		ops := finalOps(w, nodes)
		if name != "lock-set" {
			assert.Len(t, ops, len(nodes), "%s reads every node after the heal", name)
		}
		for _, op := range ops {
			_, ok := harness.NodeByName(nodes, op.Node)
			assert.True(t, ok, "%s: final op on %q", name, op.Node)
		}
	}
	_, err := newWorkload(harness.Spec{Workload: "queue"})
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
	var got harness.History
	c := withoutLocalOps(seen{&got}, "lock-set")
	assert.Equal(t, "seen", c.Name())
	c.Check(context.Background(), h, "")
	assert.Equal(t, []int{0, 1, 3}, indexes(got), "the in-memory adds are hidden, the nemesis is not")
	withoutLocalOps(seen{&got}, "lock-etcd-set").Check(context.Background(), h, "")
	assert.Len(t, got, 5, "lock-etcd-set's adds are writes to etcd")
	assert.Nil(t, availabilityWrites("register"), "register keeps the defaults")
	assert.Equal(t, []string{"init", "transfer"}, availabilityWrites("bank"))

	spec := harness.Spec{Workload: "watch", Nodes: 3, OpTimeout: time.Second}
	avail, ok, err := availabilityChecker(spec)
	require.NoError(t, err)
	require.True(t, ok)
	_, hidden := avail.(hiding)
	assert.True(t, hidden, "watch ops are hidden from the availability checker")
}

func indexes(h harness.History) []int {
	out := make([]int, len(h))
	for i, op := range h {
		out[i] = op.Index
	}
	return out
}
