package nemesis

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/harnesstest"
)

func invoke(t *testing.T, m *Nemesis, c harness.Cluster, f string, value any) harness.Op {
	t.Helper()
	op := harness.Op{Process: harness.NemesisProcess, Type: harness.Invoke, F: f}
	if value != nil {
		op.Value = harness.MustValue(value)
	}
	return m.Invoke(context.Background(), c, op)
}

func TestCrashDuringAPartitionKeepsThePartition(t *testing.T) {
	c := harnesstest.NewCluster(3)
	m := New()
	done := invoke(t, m, c, fault.StartPartition, partitionValue{Layout: "n1|n2,n3"})
	require.Equal(t, harness.OK, done.Type, done.Error)
	require.True(t, c.Drops("n1", "n2"))

	done = invoke(t, m, c, fault.StartCrash, faultValue{Nodes: []string{"n1"}})
	require.Equal(t, harness.OK, done.Type, done.Error)
	assert.False(t, c.Drops("n1", "n2"), "the fake loses the rules with the machine, as Docker does")

	c.Log = nil
	done = invoke(t, m, c, fault.StopCrash, nil)
	require.Equal(t, harness.OK, done.Type, done.Error)
	assert.True(t, c.Drops("n1", "n2"), "the rebooted node must be cut off again")
	assert.True(t, c.Drops("n1", "n3"))
	assert.Equal(t, []string{"reboot n1", "net n1", "start n1"}, c.Log, "the partition is back BEFORE the DB process starts")
	var effect Effect
	require.NoError(t, json.Unmarshal(done.Value, &effect))
	assert.Equal(t, Grudge{"n1": {"n2", "n3"}}, effect.Grudge, "the completion says what was re-applied")

	done = invoke(t, m, c, fault.StopPartition, nil)
	require.Equal(t, harness.OK, done.Type, done.Error)
	assert.False(t, c.Drops("n1", "n2"))
}

func TestPartitionStartedWhileCrashedReachesTheNodeOnReboot(t *testing.T) {
	c := harnesstest.NewCluster(3)
	m := New()
	require.Equal(t, harness.OK, invoke(t, m, c, fault.StartCrash, faultValue{Nodes: []string{"n3"}}).Type)
	done := invoke(t, m, c, fault.StartPartition, partitionValue{Layout: "n1,n2|n3"})
	require.Equal(t, harness.OK, done.Type, "a down machine is skipped, not an error: %s", done.Error)
	require.Equal(t, harness.OK, invoke(t, m, c, fault.StopCrash, nil).Type)
	assert.True(t, c.Drops("n3", "n1"))
}

func TestHealUndoesEveryFault(t *testing.T) {
	c := harnesstest.NewCluster(5)
	m := New()
	for _, step := range []struct {
		f     string
		value any
	}{
		{fault.StartLoss, faultValue{Nodes: []string{"n2"}, Probability: 0.5}},
		{fault.Pause, faultValue{Nodes: []string{"n3"}}},
		{fault.StartBandwidth, faultValue{Nodes: []string{"n1"}, Rate: "1mbit"}},
		{fault.StartCrash, faultValue{Nodes: []string{"n4"}}},
		{fault.Kill, faultValue{Nodes: []string{"n1"}}},
		{fault.MemberRemove, memberValue{Node: "n5"}},
	} {
		done := invoke(t, m, c, step.f, step.value)
		require.Equal(t, harness.OK, done.Type, "%s: %s", step.f, done.Error)
	}
	assert.Contains(t, c.Network["n1"], "tbf rate 1000000bit")
	assert.Contains(t, c.Network["n1"], "--probability 0.5", "n1's packets from n2 are lossy")

	require.NoError(t, m.Heal(context.Background(), c))
	for _, n := range NodeNames(5) {
		assert.Equal(t, "running", c.Process[n], n)
		assert.False(t, c.Down[n], n)
		assert.NotContains(t, c.Network[n], "DROP", "%s's chain must be empty", n)
		assert.NotContains(t, c.Network[n], "tc qdisc replace", "%s's qdisc must be gone", n)
	}
	rep := m.HealReport().(HealReport)
	assert.Equal(t, []string{"n3"}, rep.Resumed)
	assert.Equal(t, []string{"n4"}, rep.Rebooted)
	assert.Equal(t, []string{"n1"}, rep.Restarted)
	assert.Equal(t, []string{"n5"}, rep.Readded)
	assert.Equal(t, NodeNames(5), rep.Members)

	c.Log = nil
	require.NoError(t, m.Heal(context.Background(), c), "a second heal is harmless")
	assert.NotContains(t, strings.Join(c.Log, ";"), "add", "nothing is left to re-add")
}

func TestMemberStepsKeepSafeBounds(t *testing.T) {
	c := harnesstest.NewCluster(4)
	m := New()
	done := invoke(t, m, c, fault.MemberRemove, memberValue{Node: "n2"})
	require.Equal(t, harness.OK, done.Type, done.Error)
	var effect MemberEffect
	require.NoError(t, json.Unmarshal(done.Value, &effect))
	assert.Equal(t, MemberEffect{Node: "n2", ID: "2", Members: []string{"n1", "n3", "n4"}}, effect)
	assert.Equal(t, "n2", done.Node)

	done = invoke(t, m, c, fault.MemberRemove, memberValue{Node: "n3"})
	assert.Equal(t, harness.Fail, done.Type, "3 members must never become 2")
	assert.Contains(t, done.Error, "never goes below 3")
	assert.Len(t, c.MemberNames, 3, "a refused step does nothing")

	done = invoke(t, m, c, fault.MemberAdd, memberValue{Node: "n3"})
	assert.Equal(t, harness.Fail, done.Type, "n3 was never removed")

	done = invoke(t, m, c, fault.MemberAdd, memberValue{Node: "n2"})
	require.Equal(t, harness.OK, done.Type, done.Error)
	require.NoError(t, json.Unmarshal(done.Value, &effect))
	assert.Equal(t, []string{"n1", "n2", "n3", "n4"}, effect.Members)

	c.MemberNames[0] = ""
	done = invoke(t, m, c, fault.MemberRemove, memberValue{Node: "n2"})
	assert.Equal(t, harness.Fail, done.Type, "no removal while a member has not started")
}

func TestTargetsAndValuesAreRecorded(t *testing.T) {
	c := harnesstest.NewCluster(5)
	c.LeaderName = "n4"
	m := New()
	done := invoke(t, m, c, fault.Pause, faultValue{Targets: "leader", Seed: 1})
	require.Equal(t, harness.OK, done.Type)
	assert.JSONEq(t, `{"nodes":["n4"],"leader":"n4"}`, string(done.Value), "the leader when the fault began is recorded")
	assert.Equal(t, "paused", c.Process["n4"])
	done = invoke(t, m, c, fault.Resume, nil)
	assert.JSONEq(t, `{"nodes":["n4"]}`, string(done.Value))

	done = invoke(t, m, c, fault.Kill, faultValue{Targets: "majority", Seed: 3})
	var effect Effect
	require.NoError(t, json.Unmarshal(done.Value, &effect))
	assert.Len(t, effect.Nodes, 3)
	again := New()
	other := harnesstest.NewCluster(5)
	other.LeaderName = c.LeaderName
	done2 := invoke(t, again, other, fault.Kill, faultValue{Targets: "majority", Seed: 3})
	assert.Equal(t, done.Value, done2.Value, "the same seed hits the same nodes")

	done = invoke(t, m, c, fault.StartLoss, faultValue{Targets: "one", Seed: 2, Probability: 0.25})
	require.NoError(t, json.Unmarshal(done.Value, &effect))
	require.Len(t, effect.Nodes, 1)
	lossy := effect.Nodes[0]
	for _, n := range NodeNames(5) {
		if n == lossy {
			assert.Equal(t, 4, strings.Count(c.Network[n], "statistic"), "%s loses packets from every node", n)
		} else {
			assert.Equal(t, 1, strings.Count(c.Network[n], "statistic"), "%s loses packets from %s only", n, lossy)
		}
	}
	done = invoke(t, m, c, fault.StopLoss, nil)
	require.Equal(t, harness.OK, done.Type)
	for _, n := range NodeNames(5) {
		assert.NotContains(t, c.Network[n], "statistic")
	}
}

func TestBadStepsAreRefused(t *testing.T) {
	c := harnesstest.NewCluster(3)
	m := New()
	for f, value := range map[string]any{
		fault.StartLoss:      faultValue{Targets: "one", Probability: 1.5},
		fault.StartBandwidth: faultValue{Targets: "one", Rate: "fast"},
		fault.StartDelay:     faultValue{Targets: "one", Delay: "-1s"},
		fault.Kill:           faultValue{Nodes: []string{"n9"}},
		"flood":              nil,
	} {
		done := invoke(t, m, c, f, value)
		assert.Equal(t, harness.Fail, done.Type, f)
		assert.NotEmpty(t, done.Error, f)
	}
	assert.True(t, slices.Equal([]string{"running", "running", "running"}, []string{c.Process["n1"], c.Process["n2"], c.Process["n3"]}))
}

func TestChainScript(t *testing.T) {
	s := chainScript([]string{"-s 10.0.0.3 -j DROP", "-s 10.0.0.4 -m statistic --mode random --probability 0.1 -j DROP"})
	assert.Contains(t, s, "iptables -w -F FAULTLINE")
	assert.Contains(t, s, "-A FAULTLINE -s 10.0.0.3 -j DROP")
	assert.Contains(t, s, "-A FAULTLINE -s 10.0.0.4 -m statistic --mode random --probability 0.1 -j DROP")
	assert.NotContains(t, chainScript(nil), "DROP")
}
