package availability

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

var five = []string{"n1", "n2", "n3", "n4", "n5"}

func config(nodes []string) Config {
	return Config{Nodes: nodes, ElectionTimeout: time.Second, Grace: 3 * time.Second, MajorityGapBound: 5 * time.Second}
}

func check(t *testing.T, cfg Config, h harness.History) (harness.Result, *Details) {
	t.Helper()
	c, err := New(cfg)
	require.NoError(t, err)
	r := c.Check(context.Background(), h, "")
	t.Logf("%s", strings.Join(r.Summary, "\n"))
	return r, r.Details.(*Details)
}

// minorityLeader is the AB|CDE case done right: n1,n2 are cut off from 10 s
// to 20 s and refuse everything; n3..n5 elect a leader and serve again 1.5 s
// after the cut; after the heal n1,n2 come back within a second or so.
func minorityLeader(t *testing.T) *builder {
	b := newBuilder(t)
	b.partition("minority-leader", 10, 20, []string{"n1", "n2"}, []string{"n3", "n4", "n5"})
	b.everywhere(five, 0, 30, func(n string) serveFunc {
		if n == "n1" || n == "n2" {
			return unless(healthy, timeout, 10.1, 20.5)
		}
		return unless(healthy, timeout, 10.1, 11.5)
	})
	return b
}

func TestCorrectMinorityLeaderIsValid(t *testing.T) {
	r, d := check(t, config(five), minorityLeader(t).history())
	require.Equal(t, harness.ValidTrue, r.Valid)
	require.Len(t, d.Windows, 1)
	w := d.Windows[0]
	assert.True(t, w.Judged)
	require.NotNil(t, w.Met)
	assert.True(t, *w.Met)
	require.Len(t, w.Sides, 2)
	minority, majority := w.Sides[0], w.Sides[1]
	assert.Equal(t, RoleMinority, minority.Role)
	assert.Equal(t, []string{"n1", "n2"}, minority.Nodes)
	assert.Equal(t, RoleMajority, majority.Role)
	assert.Zero(t, minority.OK)
	assert.Zero(t, d.Headline.MinorityLinearizableOK)
	require.NotNil(t, d.Headline.Met)
	assert.Equal(t, 1, *d.Headline.Met)
	assert.Equal(t, 1, d.Headline.Judged)

	// The majority's last write before the cut completed near 10.1 s; the
	// ops it then invoked hung for 2 s, and the first write after them was
	// accepted near 12.2 s.
	require.NotNil(t, majority.ElectionGapS)
	assert.InDelta(t, 2.1, *majority.ElectionGapS, 0.15, "gap = stuck ops timing out, the election hidden under them")
	require.NotNil(t, d.Headline.ElectionGapS)
	assert.Equal(t, *majority.ElectionGapS, *d.Headline.ElectionGapS)

	require.Len(t, w.Recovery, 2)
	for _, rec := range w.Recovery {
		require.NotNil(t, rec.Seconds, rec.Node)
		assert.InDelta(t, 2.2, *rec.Seconds, 0.3, "%s: its last stuck op ends 2 s after 20.4 s, the heal completed at 20.2 s", rec.Node)
	}
	assert.InDelta(t, 1-2.1/30, d.Headline.WriteAvailability, 0.01, "the election gap is the only outage")
	require.Len(t, d.Outages, 1)
	assert.Contains(t, strings.Join(r.Summary, "\n"), "minority linearizable ok ops after grace: 0")
}

func TestMinorityServingALinearizableWriteIsInvalid(t *testing.T) {
	b := minorityLeader(t)
	b.op(9000, "n1", "write", 15, 15.01, harness.OK)
	r, d := check(t, config(five), b.history())
	require.Equal(t, harness.ValidFalse, r.Valid)
	assert.Equal(t, 1, d.Headline.MinorityLinearizableOK)
	require.Len(t, d.Violations, 1)
	assert.Equal(t, "minority", d.Violations[0].Rule)
	assert.Equal(t, "n1", d.Violations[0].Node)
	assert.False(t, *d.Windows[0].Met)
	assert.Zero(t, *d.Headline.Met)
	assert.Contains(t, strings.Join(r.Summary, "\n"), "NOT MET")
}

func TestMinorityLinearizableReadIsInvalidButSerializableIsCounted(t *testing.T) {
	b := minorityLeader(t)
	b.op(9000, "n2", "read", 12, 12.01, harness.OK)
	b.op(9000, "n2", "read", 16, 16.01, harness.OK)
	h := b.history()

	r, d := check(t, config(five), h)
	assert.Equal(t, harness.ValidFalse, r.Valid, "a linearizable read on the minority after the grace")
	assert.Equal(t, 1, d.Headline.MinorityLinearizableOK, "the read at 12 s is within the grace")

	cfg := config(five)
	cfg.Serializable = true
	r, d = check(t, cfg, h)
	assert.Equal(t, harness.ValidTrue, r.Valid, "serializable reads are exempt")
	assert.Equal(t, 1, d.Headline.MinoritySerializableReads)
	assert.Equal(t, 2, d.Headline.MinorityOK)
	assert.Contains(t, strings.Join(r.Summary, "\n"), "minority ok reads (serializable): 1")
}

func TestWhatTheMinorityRuleCannotProve(t *testing.T) {
	b := minorityLeader(t)
	// Invoked before the cut, answered ok after it: committed before.
	b.op(9000, "n1", "write", 9.9, 10.5, harness.OK)
	// Invoked within the grace period.
	b.op(9001, "n1", "write", 12.0, 12.1, harness.OK)
	// Invoked after the grace, answered only once the heal began.
	b.op(9002, "n2", "write", 19.0, 20.1, harness.OK)
	r, d := check(t, config(five), b.history())
	assert.Equal(t, harness.ValidTrue, r.Valid)
	assert.Zero(t, d.Headline.MinorityLinearizableOK)
	assert.Equal(t, 2, d.Headline.MinorityOK, "ops invoked while the fault was in force and answered ok are counted")
}

func TestMajorityThatNeverRecoversIsInvalid(t *testing.T) {
	b := newBuilder(t)
	b.partition("halves", 10, 25, []string{"n1", "n2"}, []string{"n3", "n4", "n5"})
	b.everywhere(five, 0, 30, func(string) serveFunc { return unless(healthy, timeout, 10.1, 25.5) })
	r, d := check(t, config(five), b.history())
	require.Equal(t, harness.ValidFalse, r.Valid)
	require.Len(t, d.Violations, 1)
	assert.Equal(t, "majority", d.Violations[0].Rule)
	assert.Nil(t, d.Windows[0].Sides[1].ElectionGapS, "the majority never wrote during the fault")
	require.NotNil(t, d.Headline.MajorityGapS)
	assert.Greater(t, *d.Headline.MajorityGapS, 14.0)
}

func TestMajorityGapWithinBoundIsValid(t *testing.T) {
	b := newBuilder(t)
	b.partition("halves", 10, 25, []string{"n1", "n2"}, []string{"n3", "n4", "n5"})
	b.everywhere(five, 0, 30, func(n string) serveFunc {
		if n == "n1" || n == "n2" {
			return unless(healthy, timeout, 10.1, 25.5)
		}
		return unless(healthy, timeout, 10.1, 13)
	})
	r, d := check(t, config(five), b.history())
	require.Equal(t, harness.ValidTrue, r.Valid)
	assert.Less(t, *d.Headline.MajorityGapS, 5.0)
}

func TestIdleMajorityIsNoOutage(t *testing.T) {
	b := newBuilder(t)
	b.partition("halves", 10, 25, []string{"n1", "n2"}, []string{"n3", "n4", "n5"})
	// The majority's clients stop at 11 s and come back at 24 s: nobody
	// waited, so nothing was unavailable.
	for _, n := range []string{"n3", "n4", "n5"} {
		b.stream(n, 0, 11, healthy)
		b.stream(n, 24, 30, healthy)
	}
	r, d := check(t, config(five), b.history())
	require.Equal(t, harness.ValidTrue, r.Valid)
	assert.Empty(t, d.Outages)
	assert.InDelta(t, 1.0, d.Headline.WriteAvailability, 0.001)
}

func TestKillMinorityKeepsWritesAvailable(t *testing.T) {
	b := newBuilder(t)
	b.nemesis("kill", 10, 10.1, map[string]any{"nodes": []string{"n4", "n5"}})
	b.nemesis("start", 20, 20.5, map[string]any{"nodes": []string{"n4", "n5"}})
	b.everywhere(five, 0, 30, func(n string) serveFunc {
		if n == "n4" || n == "n5" {
			return unless(healthy, timeout, 10, 21)
		}
		return unless(healthy, timeout, 10, 11.2)
	})
	r, d := check(t, config(five), b.history())
	require.Equal(t, harness.ValidTrue, r.Valid)
	w := d.Windows[0]
	assert.Contains(t, w.Expectation, "2 of 5 killed leaves a majority: writes stay available")
	assert.True(t, *w.Met)
	assert.Equal(t, RoleMajority, w.Sides[0].Role)
	assert.Equal(t, RoleDown, w.Sides[1].Role)
	assert.Equal(t, []string{"n4", "n5"}, w.Sides[1].Nodes)
	require.Len(t, w.Recovery, 2)
}

func TestKillMajority(t *testing.T) {
	killMajority := func() *builder {
		b := newBuilder(t)
		b.nemesis("kill", 10, 10.1, map[string]any{"nodes": []string{"n1", "n3", "n5"}})
		b.nemesis("start", 20, 20.5, map[string]any{"nodes": []string{"n1", "n3", "n5"}})
		b.everywhere(five, 0, 30, func(string) serveFunc { return unless(healthy, timeout, 10, 21) })
		return b
	}
	r, d := check(t, config(five), killMajority().history())
	require.Equal(t, harness.ValidTrue, r.Valid, "writes stopped, as they must")
	w := d.Windows[0]
	assert.Contains(t, w.Expectation, "3 of 5 killed leaves no majority: writes stop")
	assert.True(t, *w.Met)
	assert.Equal(t, RoleMinority, w.Sides[0].Role)
	assert.Equal(t, []string{"n2", "n4"}, w.Sides[0].Nodes)
	assert.Contains(t, strings.Join(r.Summary, "\n"), "writes stop (no write or linearizable read invoked 3.00s after the kill succeeds until the restart): met")

	b := killMajority()
	b.op(9000, "n4", "write", 15, 15.1, harness.OK)
	r, d = check(t, config(five), b.history())
	require.Equal(t, harness.ValidFalse, r.Valid, "a write served with a majority killed")
	assert.False(t, *d.Windows[0].Met)
	assert.Equal(t, "minority", d.Violations[0].Rule)
}

func TestFailoverClientsAreCountedApart(t *testing.T) {
	b := minorityLeader(t)
	// A failover client keeps writing through the majority.
	b.stream(harness.FailoverNode, 0, 30, unless(healthy, timeout, 10.1, 11.5))
	r, d := check(t, config(five), b.history())
	require.Equal(t, harness.ValidTrue, r.Valid)
	w := d.Windows[0]
	require.NotNil(t, w.Failover)
	assert.Greater(t, w.Failover.OK, 100)
	assert.Zero(t, w.Sides[0].OK, "failover ops are on no side")
	for _, n := range w.PerNode {
		assert.NotEqual(t, harness.FailoverNode, n.Node)
	}

	// With a majority killed no endpoint can take a write.
	b = newBuilder(t)
	b.nemesis("kill", 10, 10.1, map[string]any{"nodes": []string{"n1", "n2", "n3"}})
	b.nemesis("heal", 20, 20.5, nil)
	b.op(1, harness.FailoverNode, "write", 15, 15.1, harness.OK)
	r, d = check(t, config(five), b.history())
	require.Equal(t, harness.ValidFalse, r.Valid)
	assert.Equal(t, harness.FailoverNode, d.Violations[0].Node)
}

// TestLayoutsWithoutCleanSidesAreJudgedNodeByNode: in a bridge every node
// reaches a quorum through the node in the middle, so none must refuse and
// the window is met; the majority rule needs clean sides and is not
// applied. With the bridge node paused no node reaches 3 of 5, and a
// write served then breaks the minority rule.
func TestLayoutsWithoutCleanSidesAreJudgedNodeByNode(t *testing.T) {
	grudge := map[string][]string{"n1": {"n4", "n5"}, "n2": {"n4", "n5"}, "n3": nil, "n4": {"n1", "n2"}, "n5": {"n1", "n2"}}
	b := newBuilder(t)
	b.nemesis("start-partition", 10, 10.2, map[string]any{"layout": "bridge", "grudge": grudge})
	b.nemesis("stop-partition", 20, 20.2, nil)
	b.everywhere(five, 0, 30, func(string) serveFunc { return healthy })
	r, d := check(t, config(five), b.history())
	require.Equal(t, harness.ValidTrue, r.Valid)
	w := d.Windows[0]
	assert.True(t, w.Judged)
	require.NotNil(t, w.Met)
	assert.True(t, *w.Met)
	require.Len(t, w.Sides, 1)
	assert.Equal(t, RolePartial, w.Sides[0].Role)
	assert.Equal(t, five, w.Sides[0].Nodes)
	require.Len(t, w.PerNode, 5)
	assert.Equal(t, []string{"n1", "n2", "n4", "n5"}, w.Cut, "every node with a grudge")
	assert.Empty(t, w.CutOff, "every node reaches a quorum through n3")
	assert.Contains(t, w.Expectation, "no clean sides: every node reaches a quorum")

	b = newBuilder(t)
	b.nemesis("start-partition", 10, 10.2, map[string]any{"layout": "bridge", "grudge": grudge})
	b.nemesis("pause", 12, 12.1, map[string]any{"nodes": []string{"n3"}})
	b.nemesis("resume", 18, 18.1, map[string]any{"nodes": []string{"n3"}})
	b.nemesis("stop-partition", 20, 20.2, nil)
	b.op(1, "n1", "write", 16, 16.1, harness.OK)
	r, d = check(t, config(five), b.history())
	require.Equal(t, harness.ValidFalse, r.Valid, "with the bridge paused no node reaches a quorum")
	require.Len(t, d.Violations, 1)
	assert.Equal(t, "minority", d.Violations[0].Rule)
	assert.Len(t, d.Windows, 2)
	assert.Len(t, d.Windows[0].Segments, 3, "bridge, bridge with n3 paused, bridge again")
}

func TestFaultsThatFailedAreNotJudged(t *testing.T) {
	b := newBuilder(t)
	b.nemesisTyped("start-partition", 10, 10.2, nil, harness.Info)
	b.nemesis("heal", 20, 20.2, nil)
	b.op(1, "n1", "write", 15, 15.1, harness.OK)
	r, d := check(t, config(five), b.history())
	require.Equal(t, harness.ValidTrue, r.Valid)
	assert.False(t, d.Windows[0].Judged)
	assert.Contains(t, d.Windows[0].NotJudged, "partly applied")
}

func TestEvenSplitHasNoMajority(t *testing.T) {
	four := []string{"n1", "n2", "n3", "n4"}
	b := newBuilder(t)
	b.partition("halves", 10, 20, []string{"n1", "n2"}, []string{"n3", "n4"})
	b.op(1, "n3", "write", 15, 15.1, harness.OK)
	r, d := check(t, config(four), b.history())
	require.Equal(t, harness.ValidFalse, r.Valid, "neither half of four nodes is a quorum")
	assert.Contains(t, d.Windows[0].Expectation, "no side has a majority")
}

func TestBareGroupsAndFinalHeal(t *testing.T) {
	b := newBuilder(t)
	b.nemesis("start-partition", 10, 10.2, [][]string{{"n1"}, {"n2", "n3"}})
	b.nemesis("heal", 20, 20.2, nil)
	b.everywhere([]string{"n1", "n2", "n3"}, 0, 19, func(n string) serveFunc {
		if n == "n1" {
			return unless(healthy, timeout, 10.1, 30)
		}
		return healthy
	})
	r, d := check(t, config([]string{"n1", "n2", "n3"}), b.history())
	require.Equal(t, harness.ValidTrue, r.Valid)
	w := d.Windows[0]
	assert.Equal(t, "heal", w.ClosedBy)
	assert.Equal(t, []string{"n1"}, w.Sides[0].Nodes)
	require.Len(t, w.Recovery, 1)
	assert.Nil(t, w.Recovery[0].Seconds, "no op after the final heal")
	assert.Contains(t, w.Recovery[0].Note, "end of the history")
}

func TestConfigValidate(t *testing.T) {
	good := config(five)
	require.NoError(t, good.validate())
	cases := map[string]func(*Config){
		"no nodes":          func(c *Config) { c.Nodes = nil },
		"election timeout":  func(c *Config) { c.ElectionTimeout = 0 },
		"grace":             func(c *Config) { c.Grace = -time.Second },
		"majority gap":      func(c *Config) { c.MajorityGapBound = 0 },
		"distinct":          func(c *Config) { c.Nodes = []string{"n1", "n1"} },
		"failover label":    func(c *Config) { c.FailoverNode = "n2" },
		"outage threshold ": func(c *Config) { c.OutageThreshold = -1 },
	}
	for name, mutate := range cases {
		c := config(five)
		mutate(&c)
		_, err := New(c)
		assert.Error(t, err, name)
	}
}

// TestOverlappingFaultsAreJudgedTogether: a partition under packet loss,
// and a kill inside a partition, are judged through the states they make
// together: the minority's write is a violation even with loss in force,
// and with n4 killed inside n1,n5 | n2,n3,n4 no side holds 3 of 5.
func TestOverlappingFaultsAreJudgedTogether(t *testing.T) {
	b := newBuilder(t)
	b.nemesis("start-loss", 5, 5.1, map[string]any{"nodes": []string{"n3"}})
	b.partition("halves", 10, 20, []string{"n1", "n2"}, []string{"n3", "n4", "n5"})
	b.nemesis("stop-loss", 25, 25.1, nil)
	b.nemesis("start-crash", 30, 30.1, map[string]any{"nodes": []string{"n1"}})
	b.nemesis("stop-crash", 35, 35.1, nil)
	b.op(1, "n1", "write", 15, 15.1, harness.OK)
	r, d := check(t, config(five), b.history())
	require.Equal(t, harness.ValidFalse, r.Valid, "the minority served a write, loss or no loss")
	require.Len(t, d.Windows, 3)
	for _, w := range d.Windows {
		assert.True(t, w.Judged, "window #%d: %s", w.Number, w.NotJudged)
	}
	assert.Equal(t, "loss", d.Windows[0].Kind)
	assert.Len(t, d.Windows[0].Segments, 3, "loss, loss with the partition, loss again")
	assert.False(t, *d.Windows[1].Met)
	assert.Contains(t, d.Windows[1].Sides[1].MajorityRuleSkipped, "n3 (loss) is degraded", "a lossy majority is not held to the gap bound")
	assert.Equal(t, KindCrash, d.Windows[2].Kind)
	assert.True(t, *d.Windows[2].Met)
	assert.Contains(t, d.Windows[2].Expectation, "1 of 5 crashed leaves a majority")

	b = newBuilder(t)
	b.partition("halves", 10, 30, []string{"n1", "n5"}, []string{"n2", "n3", "n4"})
	b.nemesis("kill", 20, 20.2, map[string]any{"nodes": []string{"n4"}})
	b.nemesis("start", 25, 25.3, map[string]any{"nodes": []string{"n4"}})
	b.everywhere(five, 0, 40, func(n string) serveFunc {
		switch n {
		case "n1", "n5":
			return unless(healthy, timeout, 10.1, 32)
		case "n4":
			return unless(unless(healthy, timeout, 10.1, 10.5), timeout, 20, 27)
		}
		return unless(unless(healthy, timeout, 10.1, 10.5), timeout, 20, 26)
	})
	r, d = check(t, config(five), b.history())
	require.Equal(t, harness.ValidTrue, r.Valid)
	part := d.Windows[0]
	require.Len(t, part.Segments, 3)
	assert.True(t, part.Judged)
	mid := d.Segments[1]
	assert.Equal(t, "n1,n5 | n2,n3; n4 killed", mid.State)
	assert.Contains(t, mid.Expectation, "no side has a majority of the 5 members with n4 killed")
	assert.Equal(t, RoleMinority, mid.Sides[0].Role)
	assert.Equal(t, RoleMinority, mid.Sides[1].Role)
	assert.Equal(t, RoleDown, mid.Sides[2].Role)
	require.Len(t, d.Restores, 1, "the restart of n4 gave n2,n3,n4 back their quorum")
	assert.Contains(t, d.Restores[0].By, "start n4")
	require.NotNil(t, d.Restores[0].ServedS)
	assert.InDelta(t, 0.7, *d.Restores[0].ServedS, 0.3)
	assert.True(t, *d.Restores[0].Met)
	assert.Contains(t, strings.Join(r.Summary, "\n"), "3 states")
}

// TestSlowQuorumRestoreIsInvalid: a majority killed and restarted, after
// which the cluster serves nothing for longer than the bound while clients
// wait.
func TestSlowQuorumRestoreIsInvalid(t *testing.T) {
	b := newBuilder(t)
	b.nemesis("kill", 10, 10.1, map[string]any{"nodes": []string{"n1", "n2", "n3"}})
	b.nemesis("start", 15, 15.5, map[string]any{"nodes": []string{"n1", "n2", "n3"}})
	b.everywhere(five, 0, 60, func(string) serveFunc { return unless(healthy, timeout, 10, 45) })
	cfg := config(five)
	cfg.QuorumRestoreBound = 10 * time.Second
	r, d := check(t, cfg, b.history())
	require.Equal(t, harness.ValidFalse, r.Valid)
	require.Len(t, d.Restores, 1)
	assert.False(t, *d.Restores[0].Met)
	assert.Equal(t, "quorum-restore", d.Violations[0].Rule)
	assert.Greater(t, *d.Headline.QuorumRestoreS, 29.0)
}

// TestFinalRecoveryPerNode: after the final heal the harness probes every
// node; each node's recovery is its own, a node that never answers breaks
// the recovery rule, with its exit named, and one never probed makes the
// verdict unknown.
func TestFinalRecoveryPerNode(t *testing.T) {
	three := []string{"n1", "n2", "n3"}
	probes := func(b *builder, p int, node string, from, to float64, okAt float64) {
		for t := from; t < to; t += 0.25 {
			if okAt >= 0 && t >= okAt {
				b.op(p, node, harness.ProbeF, t, t+0.01, harness.OK)
				return
			}
			b.op(p, node, harness.ProbeF, t, t+0.2, harness.Fail)
		}
	}
	b := newBuilder(t)
	b.nemesis("kill", 10, 10.1, map[string]any{"nodes": []string{"n3"}})
	b.ops = append(b.ops,
		harness.Op{Process: harness.MonitorProcess, Type: harness.Invoke, F: harness.ProcessExit, Node: "n2", Time: sec(12)},
		harness.Op{Process: harness.MonitorProcess, Type: harness.Info, F: harness.ProcessExit, Node: "n2", Time: sec(12),
			Value: harness.MustValue(harness.Exit{Node: "n2", Code: 2, Line: "panic: tocommit(908) is out of range"})})
	b.nemesis("heal", 20, 20.5, nil)
	probes(b, 100, "n1", 20.5, 21, 20.5)
	probes(b, 101, "n2", 20.5, 30.5, -1)
	probes(b, 102, "n3", 20.5, 30.5, 22.5)
	cfg := config(three)
	cfg.RecoverBound = 10 * time.Second
	r, d := check(t, cfg, b.history())
	require.Equal(t, harness.ValidFalse, r.Valid)
	require.Len(t, d.FinalRecovery, 3)
	assert.InDelta(t, 0.01, *d.FinalRecovery[0].Seconds, 0.001)
	assert.Nil(t, d.FinalRecovery[1].Seconds)
	assert.InDelta(t, 2.01, *d.FinalRecovery[2].Seconds, 0.001)
	v := d.Violations[len(d.Violations)-1]
	assert.Equal(t, "recovery", v.Rule)
	assert.Contains(t, v.Message, "n2 never served a linearizable op again")
	assert.Contains(t, v.Message, "exited by itself at 12.00s (status 2): panic: tocommit(908)")
	exitWindow := d.Windows[1]
	assert.Equal(t, "exit", exitWindow.Kind, "a process that exits by itself is a window of its own")

	b = newBuilder(t)
	b.nemesis("heal", 20, 20.5, nil)
	probes(b, 100, "n1", 20.5, 21, 20.5)
	probes(b, 101, "n2", 20.5, 21, 20.5)
	r, d = check(t, cfg, b.history())
	require.Equal(t, harness.ValidUnknown, r.Valid, "n3 was never probed: its recovery is unknown, not valid")
	assert.Contains(t, d.Unjudged[0], "recovery of n3")
}

// TestUnrecoveredMajorityIsNotHeldToTheBound: n1,n2 never come back after
// the first partition, and the second puts them on the majority with n3.
// That side cannot reach a quorum until they do, which is etcd's slow
// reconnection, not a broken election: the majority rule must not fire.
func TestUnrecoveredMajorityIsNotHeldToTheBound(t *testing.T) {
	b := newBuilder(t)
	b.partition("halves", 10, 20, []string{"n1", "n2"}, []string{"n3", "n4", "n5"})
	b.partition("halves", 30, 45, []string{"n4", "n5"}, []string{"n1", "n2", "n3"})
	b.everywhere(five, 0, 50, func(n string) serveFunc {
		switch n {
		case "n1", "n2":
			return unless(healthy, timeout, 10.1, 50)
		case "n3":
			return unless(healthy, timeout, 30.1, 50)
		}
		return unless(healthy, timeout, 30.1, 50)
	})
	r, d := check(t, config(five), b.history())
	require.Equal(t, harness.ValidTrue, r.Valid)
	majority := d.Windows[1].Sides[1]
	assert.Equal(t, []string{"n1", "n2", "n3"}, majority.Nodes)
	assert.Contains(t, majority.MajorityRuleSkipped, "n1,n2 had answered no linearizable op")
	assert.Greater(t, *majority.LongestWriteGapS, 10.0, "the gap is still measured")

	// The same second partition after n1,n2 did recover is held to it.
	b = newBuilder(t)
	b.partition("halves", 10, 20, []string{"n1", "n2"}, []string{"n3", "n4", "n5"})
	b.partition("halves", 30, 45, []string{"n4", "n5"}, []string{"n1", "n2", "n3"})
	b.everywhere(five, 0, 50, func(n string) serveFunc {
		if n == "n1" || n == "n2" {
			return unless(unless(healthy, timeout, 10.1, 22), timeout, 30.1, 50)
		}
		return unless(healthy, timeout, 30.1, 50)
	})
	r, d = check(t, config(five), b.history())
	require.Equal(t, harness.ValidFalse, r.Valid)
	assert.Empty(t, d.Windows[1].Sides[1].MajorityRuleSkipped)
	assert.Equal(t, "majority", d.Violations[0].Rule)
}
