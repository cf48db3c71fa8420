package nemesis

import (
	"bytes"
	"context"
	"encoding/json"
	"math/bits"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/harnesstest"
)

func TestBitflipFlipsAboutPPerByte(t *testing.T) {
	data := make([]byte, 1<<20)
	flips := bitflip(data, 1e-3, rand.New(rand.NewSource(1)))
	changed := 0
	for _, b := range data {
		changed += bits.OnesCount8(b)
	}
	assert.Equal(t, flips, changed, "each flip changes one bit of a distinct byte")
	assert.InDelta(t, 1048, flips, 150, "about p times the bytes")
	assert.Zero(t, bitflip(make([]byte, 100), 0, rand.New(rand.NewSource(1))))
	assert.Zero(t, bitflip(nil, 0.5, rand.New(rand.NewSource(1))))
}

func TestTruncateCutsWhatWasWrittenNotThePadding(t *testing.T) {
	data := append(bytes.Repeat([]byte{7}, 3000), make([]byte, 5000)...)
	out, cut := truncateWritten(data, 1000)
	assert.Equal(t, 1000, cut)
	assert.Len(t, out, 2000)
	out, cut = truncateWritten(bytes.Repeat([]byte{7}, 10), 1000)
	assert.Equal(t, 10, cut, "never more than was written")
	assert.Empty(t, out)
}

// damagedCluster is a fake of 3 nodes, each with two WAL segments of
// written records and zero padding.
func damagedCluster() *harnesstest.Cluster {
	c := harnesstest.NewCluster(3)
	for _, n := range NodeNames(3) {
		seg := append(bytes.Repeat([]byte{0xab}, 4096), make([]byte, 4096)...)
		c.Files[n] = map[string][]byte{
			"member/wal/0000000000000000-0000000000000000.wal": bytes.Clone(seg),
			"member/wal/0000000000000001-0000000000000100.wal": bytes.Clone(seg),
		}
	}
	return c
}

func TestCorruptKillsDamagesAndRestarts(t *testing.T) {
	c := damagedCluster()
	m := New()
	done := invoke(t, m, c, fault.StartCorrupt, corruptValue{faultValue: faultValue{Nodes: []string{"n2"}, Seed: 3, Probability: 1e-3}, Modes: []string{fault.TruncateWAL}})
	require.Equal(t, harness.OK, done.Type, done.Error)
	assert.Equal(t, "n2", done.Node)
	var effect CorruptEffect
	require.NoError(t, json.Unmarshal(done.Value, &effect))
	d := effect.Damage["n2"]
	assert.Equal(t, fault.TruncateWAL, d.Mode)
	assert.Equal(t, "member/wal/0000000000000001-0000000000000100.wal", d.File, "a truncation hits the last segment")
	assert.Len(t, c.Files["n2"][d.File], 4096-d.Cut)
	assert.Equal(t, "killed", c.Process["n2"], "the node stays down until the stop")
	assert.Equal(t, []string{"kill n2", "write n2 " + d.File}, c.Log, "killed first, then damaged")

	c.Log = nil
	done = invoke(t, m, c, fault.StopCorrupt, nil)
	require.Equal(t, harness.OK, done.Type, done.Error)
	require.NoError(t, json.Unmarshal(done.Value, &effect))
	assert.Equal(t, []string{"n2"}, effect.Nodes)
	assert.Empty(t, effect.Refused)
	assert.Equal(t, "running", c.Process["n2"])
	assert.Equal(t, []string{"start-damaged n2"}, c.Log)
}

func TestARefusedNodeIsReplacedAndNamed(t *testing.T) {
	c := damagedCluster()
	c.Refuse["n3"] = `{"level":"fatal","msg":"failed to read WAL","error":"walpb: crc mismatch"}`
	m := New()
	done := invoke(t, m, c, fault.StartCorrupt, corruptValue{faultValue: faultValue{Nodes: []string{"n3"}, Seed: 1, Probability: 1e-2}, Modes: []string{fault.BitflipWAL, fault.BitflipSnap}})
	require.Equal(t, harness.OK, done.Type, done.Error)
	var effect CorruptEffect
	require.NoError(t, json.Unmarshal(done.Value, &effect))
	d := effect.Damage["n3"]
	assert.Equal(t, fault.BitflipWAL, d.Mode, "with no snapshot file a bitflip-snap falls back to the WAL")
	assert.Positive(t, d.Flips)

	c.Log = nil
	require.NoError(t, m.Heal(context.Background(), c), "the heal starts damaged nodes too")
	assert.Subset(t, c.Log, []string{"start-damaged n3", "remove n3", "add n3"})
	assert.Equal(t, []string{"start-damaged n3", "remove n3", "add n3"}, c.Log[len(c.Log)-3:], "refused, then replaced, after the network heals")
	assert.Equal(t, "running", c.Process["n3"])
	rep := m.HealReport().(HealReport)
	assert.Equal(t, []string{"n3"}, rep.Replaced)
	assert.Equal(t, map[string]string{"n3": c.Refuse["n3"]}, rep.Refused, "the heal's value names the refusal, for the log checker")
}

func TestCorruptNeverDamagesAMajority(t *testing.T) {
	c := damagedCluster()
	m := New()
	v := corruptValue{faultValue: faultValue{Nodes: []string{"n1", "n2"}, Probability: 1e-3}, Modes: []string{fault.BitflipWAL}}
	done := invoke(t, m, c, fault.StartCorrupt, v)
	assert.Equal(t, harness.Fail, done.Type)
	assert.Contains(t, done.Error, "no intact majority")
	assert.Empty(t, c.Log, "nothing was done")

	v.Nodes = []string{"n1"}
	require.Equal(t, harness.OK, invoke(t, m, c, fault.StartCorrupt, v).Type)
	v.Nodes = []string{"n2"}
	assert.Equal(t, harness.Fail, invoke(t, m, c, fault.StartCorrupt, v).Type, "two damaged of three at once is a majority")
}

func TestUpgradeMovesANodeToTheNextBuild(t *testing.T) {
	c := harnesstest.NewCluster(3)
	c.BuildList = []string{"v3.5.21", "v3.6.5"}
	for i, n := range NodeNames(3) {
		c.Versions[n] = c.BuildList[i%2]
	}
	m := New()
	done := invoke(t, m, c, fault.Upgrade, faultValue{Nodes: []string{"n1"}})
	require.Equal(t, harness.OK, done.Type, done.Error)
	var effect UpgradeEffect
	require.NoError(t, json.Unmarshal(done.Value, &effect))
	assert.Equal(t, UpgradeEffect{Nodes: []string{"n1"}, From: map[string]string{"n1": "v3.5.21"}, To: map[string]string{"n1": "v3.6.5"}}, effect)
	assert.Equal(t, []string{"stop n1", "version n1 v3.6.5", "start n1"}, c.Log, "stopped, moved, started")

	done = invoke(t, m, c, fault.Upgrade, faultValue{Nodes: []string{"n2"}})
	require.Equal(t, harness.OK, done.Type, done.Error)
	assert.Equal(t, "v3.5.21", c.Versions["n2"], "the last build wraps to the first: a downgrade")

	require.Equal(t, harness.OK, invoke(t, m, c, fault.Kill, faultValue{Nodes: []string{"n3"}}).Type)
	done = invoke(t, m, c, fault.Upgrade, faultValue{Nodes: []string{"n3"}})
	assert.Equal(t, harness.Fail, done.Type, "a killed node is not restarted by an upgrade")
	assert.Contains(t, done.Error, "n3 is killed")

	c.BuildList = c.BuildList[:1]
	done = invoke(t, m, c, fault.Upgrade, faultValue{Nodes: []string{"n1"}})
	assert.Equal(t, harness.Fail, done.Type)
	assert.Contains(t, done.Error, "--target-version")
}

func TestAFailpointOnlyACallReachesIsTriggered(t *testing.T) {
	c := harnesstest.NewCluster(3)
	c.FailpointNames = []string{"defragBeforeCopy", "compactBeforeCommitBatch", "raftBeforeSave"}
	m := New()
	for _, tc := range []struct{ failpoint, call string }{
		{"defragBeforeCopy", "defragment n2"},
		{"compactBeforeCommitBatch", "compact n2 -10"},
		{"raftBeforeSave", ""},
	} {
		c.Log = nil
		done := invoke(t, m, c, fault.StartFailpoint, failpointValue{faultValue: faultValue{Nodes: []string{"n2"}}, Failpoints: tc.failpoint})
		require.Equal(t, harness.OK, done.Type, done.Error)
		var effect FailpointEffect
		require.NoError(t, json.Unmarshal(done.Value, &effect))
		assert.Equal(t, tc.failpoint, effect.Armed["n2"].Name)
		assert.Equal(t, `panic("`+tc.failpoint+`")`, effect.Armed["n2"].Action, "the panic names its failpoint")
		if tc.call == "" {
			assert.Empty(t, effect.Triggered, "raft's own traffic reaches %s", tc.failpoint)
			assert.Equal(t, []string{"arm n2 raftBeforeSave=panic(\"raftBeforeSave\")"}, c.Log)
		} else {
			assert.Equal(t, []string{"arm n2 " + tc.failpoint + `=panic("` + tc.failpoint + `")`, tc.call}, c.Log, "armed, then driven into it")
			assert.Contains(t, effect.Triggered["n2"], ": ok")
		}
		require.Equal(t, harness.OK, invoke(t, m, c, fault.StopFailpoint, nil).Type)
	}
}

// TestAFailpointLeftToTrafficIsOnlyArmed: with trigger "traffic" the
// nemesis arms a failpoint only a call reaches and makes no call, so
// that the workload's own compaction or defragmentation is the one that
// meets it; a trigger of neither kind is refused.
func TestAFailpointLeftToTrafficIsOnlyArmed(t *testing.T) {
	c := harnesstest.NewCluster(3)
	c.FailpointNames = []string{"compactBeforeSetFinishedCompact"}
	m := New()
	done := invoke(t, m, c, fault.StartFailpoint, failpointValue{faultValue: faultValue{Nodes: []string{"n2"}}, Failpoints: "compactBeforeSetFinishedCompact=panic", Trigger: fault.TriggerTraffic})
	require.Equal(t, harness.OK, done.Type, done.Error)
	var effect FailpointEffect
	require.NoError(t, json.Unmarshal(done.Value, &effect))
	assert.Empty(t, effect.Triggered)
	assert.Equal(t, []string{`arm n2 compactBeforeSetFinishedCompact=panic("compactBeforeSetFinishedCompact")`}, c.Log, "armed, and no call made")
	require.Equal(t, harness.OK, invoke(t, m, c, fault.StopFailpoint, nil).Type)

	raw := harness.MustValue(failpointValue{faultValue: faultValue{Targets: "one", Seed: 1}, Failpoints: "crash", Trigger: "later"})
	assert.ErrorContains(t, failpointFault{}.check(raw, []string{"n1", "n2", "n3"}), `trigger "later"`)
}
