package main

// End-to-end tests of the availability checker on real etcd: the AB|CDE
// partition and a majority of nodes killed. Like every end-to-end test they
// need a Docker engine and fail, never skip, without one.

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/checker/availability"
	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// availabilityOf reads the availability checker's verdict and details from
// a stored run.
func availabilityOf(t *testing.T, dir string) (harness.Valid, availability.Details) {
	t.Helper()
	rs := readResults(t, dir)
	r, ok := rs.Checkers["availability"]
	require.True(t, ok, "results.json has no availability checker")
	var d availability.Details
	require.NoError(t, json.Unmarshal(r.Details, &d))
	return r.Valid, d
}

// TestMinorityLeaderPartitionIsMeasured is the AB|CDE case on 5 etcd nodes:
// one partition from 5 s to 10 s puts the leader and one other node on
// their own. The minority must answer no linearizable op, the majority must
// elect and serve, the cut-off nodes must come back after the heal, and
// the summary must say so with the figures. The partition is short on
// purpose: etcd's peers reconnect after a heal when TCP next retransmits,
// which is sooner after a short partition (0.4 to 1.7 s after one of 5 s,
// up to 6.6 s after one of 10 s; a 7 s partition once left the cut-off
// nodes silent for the 6 s that followed it), and the workload ends 5 s
// after the heal. It needs a machine where applying a partition takes a second or
// two, not the 7 s seen under a load average of 40.
func TestMinorityLeaderPartitionIsMeasured(t *testing.T) {
	dockerClient(t)
	store := t.TempDir()
	r := runFaultline(t, 3*time.Minute, "test", "--nodes", "5", "--nemesis", "partition", "--partition", "minority-leader",
		"--time-limit", "15", "--nemesis-interval", "5", "--seed", "11", "--store", store)
	require.Equal(t, 0, r.code, "etcd under a minority-leader partition must be valid:\n%s", r.stderr)
	valid, d := availabilityOf(t, latest(t, store))
	assert.Equal(t, harness.ValidTrue, valid)

	require.Len(t, d.Windows, 1, "one partition, from 5 s to 10 s")
	w := d.Windows[0]
	require.True(t, w.Judged, w.NotJudged)
	require.Len(t, w.Sides, 2)
	for _, s := range w.Sides {
		switch s.Role {
		case availability.RoleMinority:
			assert.Len(t, s.Nodes, 2, "the leader and one more")
			assert.Zero(t, s.LinearizableOKAfterGrace)
		case availability.RoleMajority:
			assert.Len(t, s.Nodes, 3)
			require.NotNil(t, s.ElectionGapS, "the majority must elect a leader and accept writes")
			assert.Positive(t, *s.ElectionGapS)
			assert.Less(t, *s.ElectionGapS, d.MajorityGapBoundS)
		}
	}
	assert.Zero(t, d.Headline.MinorityLinearizableOK)
	require.NotNil(t, d.Headline.RecoveryS, "a cut-off node must serve again after the heal: %+v", w.Recovery)
	assert.Contains(t, r.stdout, "minority linearizable ok ops after grace: 0")
	assert.Contains(t, r.stdout, "recovery after the heal: ")
	assert.Regexp(t, `majority n\d,n\d,n\d: .*election gap \d+\.\d\ds`, r.stdout)
	assert.Regexp(t, `expected: the minority \(n\d,n\d\) serves no linearizable op .*: met`, r.stdout)
}

// TestKillingAMajorityStopsWrites kills 2 of 3 etcd nodes from 5 s to 10 s:
// the survivor has no quorum, so no write may succeed, and the checker
// must state that expectation and find it met.
func TestKillingAMajorityStopsWrites(t *testing.T) {
	dockerClient(t)
	store := t.TempDir()
	r := runFaultline(t, 3*time.Minute, "test", "--nodes", "3", "--nemesis", "kill", "--kill-count", "2",
		"--time-limit", "15", "--nemesis-interval", "5", "--seed", "3", "--store", store)
	require.Equal(t, 0, r.code, "etcd with a majority killed must refuse writes, and so be valid:\n%s", r.stderr)
	valid, d := availabilityOf(t, latest(t, store))
	assert.Equal(t, harness.ValidTrue, valid)

	require.Len(t, d.Windows, 1, "one kill, from 5 s to 10 s")
	w := d.Windows[0]
	assert.Equal(t, availability.KindKill, w.Kind)
	assert.Len(t, w.Cut, 2)
	assert.Contains(t, w.Expectation, "2 of 3 killed leaves no majority: writes stop")
	require.NotNil(t, w.Met)
	assert.True(t, *w.Met)
	var survivors *availability.Side
	for i := range w.Sides {
		if w.Sides[i].Role == availability.RoleMinority {
			survivors = &w.Sides[i]
		}
	}
	require.NotNil(t, survivors, "the survivor is a minority: %+v", w.Sides)
	assert.Zero(t, survivors.LinearizableOKAfterGrace)
	// A write already in flight when the kill landed may still commit; one
	// invoked after the kill completed cannot, until the restart. (Counting
	// every ok write in the window, as this test once did, failed when a
	// write invoked just before the kill was acknowledged just after.)
	h := runHistory(t, latest(t, store))
	kills, starts := nemesisPairs(h, fault.Kill), nemesisPairs(h, fault.StartKilled)
	require.NotEmpty(t, kills)
	require.NotEmpty(t, starts)
	for _, n := range survivors.Nodes {
		for _, f := range []string{"write", "cas"} {
			_, ok := clientOps(h, n, f, kills[0].Completion.Time, starts[0].Invoke.Time)
			assert.Zero(t, ok, "no %s invoked on %s after the kill may be accepted without a quorum", f, n)
		}
	}

	outage := false
	for _, o := range d.Outages {
		if o.FromS < w.EndS && o.ToS > w.InForceS {
			outage = true
		}
	}
	assert.True(t, outage, "writes stopped during the kill: %+v", d.Outages)
	assert.Contains(t, r.stdout, "leaves no majority: writes stop")
	assert.Regexp(t, `writes stop \(.*\): met`, r.stdout)
}
