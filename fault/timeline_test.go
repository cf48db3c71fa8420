package fault

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

var five = []string{"n1", "n2", "n3", "n4", "n5"}

// TestTimelineFollowsOverlappingFaults: a partition with a kill inside it,
// then a process that exits by itself, then the heal. Each segment holds
// the state between two fault ops, and the sides, quorum and MayServe
// follow from it.
func TestTimelineFollowsOverlappingFaults(t *testing.T) {
	h := harness.History{
		nemesisOp(10000, harness.Invoke, StartPartition, `{"layout":"halves"}`),
		nemesisOp(10100, harness.OK, StartPartition, `{"layout":"halves","groups":[["n1","n5"],["n2","n3","n4"]],"grudge":{"n1":["n2","n3","n4"],"n5":["n2","n3","n4"],"n2":["n1","n5"],"n3":["n1","n5"],"n4":["n1","n5"]}}`),
		nemesisOp(20000, harness.Invoke, Kill, `{"targets":"one"}`),
		nemesisOp(20200, harness.OK, Kill, `{"nodes":["n4"]}`),
		nemesisOp(30000, harness.Invoke, StopPartition, ""),
		nemesisOp(30100, harness.OK, StopPartition, `{"nodes":["n1","n2","n3","n4","n5"]}`),
		{Process: harness.MonitorProcess, Type: harness.Invoke, F: ProcessExit, Time: 35 * time.Second},
		{Process: harness.MonitorProcess, Type: harness.Info, F: ProcessExit, Time: 35 * time.Second, Value: []byte(`{"node":"n2","code":2,"line":"panic: boom"}`)},
		nemesisOp(40000, harness.Invoke, StartKilled, ""),
		nemesisOp(40500, harness.OK, StartKilled, `{"nodes":["n4"]}`),
		nemesisOp(60000, harness.Invoke, Heal, ""),
		nemesisOp(61000, harness.OK, Heal, `{}`),
		{Process: 3, Type: harness.Invoke, F: "read", Time: 70 * time.Second},
	}
	for i := range h {
		h[i].Index = i
	}
	segs := Timeline(h)
	require.Len(t, segs, 7)
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	type row struct {
		from, to time.Duration
		desc     string
		serving  []string
	}
	var got []row
	for _, s := range segs {
		var serving []string
		for _, n := range five {
			if s.State.MayServe(n, five) {
				serving = append(serving, n)
			}
		}
		got = append(got, row{s.From, s.To, s.State.Describe(five), serving})
	}
	assert.Equal(t, []row{
		{0, sec(10), "healthy", five},
		{sec(10.1), sec(20), "n1,n5 | n2,n3,n4", []string{"n2", "n3", "n4"}},
		{sec(20.2), sec(30), "n1,n5 | n2,n3; n4 killed", nil},
		{sec(30.1), sec(35), "n4 killed", []string{"n1", "n2", "n3", "n5"}},
		{sec(35), sec(40), "n4 killed; n2 exited", []string{"n1", "n3", "n5"}},
		{sec(40.5), sec(60), "n2 exited", []string{"n1", "n3", "n4", "n5"}},
		{sec(61), sec(70), "healthy", five},
	}, got)
	sides, clean := segs[2].State.Sides(five)
	assert.True(t, clean)
	assert.Equal(t, [][]string{{"n1", "n5"}, {"n2", "n3"}}, sides, "the killed n4 is on no side")
	assert.Equal(t, 3, segs[2].State.Quorum(five))
	assert.Equal(t, ProcessExit, segs[4].Began.Invoke.F)
}

// TestAFailpointFiredWhileItsFaultStopsIsRestarted: a failpoint that
// fires after stop-failpoint was invoked and before it completed fired
// before the stop disarmed it, and the stop restarted the node: the node
// is up after the stop, not down until the next stop.
func TestAFailpointFiredWhileItsFaultStopsIsRestarted(t *testing.T) {
	fired := func(at time.Duration, typ harness.Type) harness.Op {
		op := harness.Op{Process: harness.MonitorProcess, Type: typ, F: harness.FailpointFired, Time: at}
		if typ != harness.Invoke {
			op.Value = []byte(`{"node":"n1","code":2,"failpoint":"compactBeforeSetFinishedCompact"}`)
		}
		return op
	}
	h := harness.History{
		nemesisOp(15000, harness.Invoke, StartFailpoint, `{"targets":"one"}`),
		nemesisOp(15003, harness.OK, StartFailpoint, `{"nodes":["n1"]}`),
		nemesisOp(18000, harness.Invoke, StopFailpoint, ""),
		fired(18114*time.Millisecond, harness.Invoke),
		fired(18114*time.Millisecond, harness.OK),
		nemesisOp(18251, harness.OK, StopFailpoint, `{"nodes":["n1"]}`),
		nemesisOp(21000, harness.Invoke, StartFailpoint, `{"targets":"one"}`),
		nemesisOp(21005, harness.OK, StartFailpoint, `{"nodes":["n1"]}`),
		fired(22551*time.Millisecond, harness.Invoke),
		fired(22551*time.Millisecond, harness.OK),
		nemesisOp(24000, harness.Invoke, StopFailpoint, ""),
		nemesisOp(24170, harness.OK, StopFailpoint, `{"nodes":["n1"]}`),
		{Process: 3, Type: harness.Invoke, F: "read", Time: 30 * time.Second},
	}
	for i := range h {
		h[i].Index = i
	}
	one := []string{"n1"}
	var got []string
	for _, s := range Timeline(h) {
		got = append(got, fmt.Sprintf("%.3f-%.3f %s", s.From.Seconds(), s.To.Seconds(), s.State.Describe(one)))
	}
	assert.Equal(t, []string{
		"0.000-15.000 healthy",
		"15.003-18.000 n1 under failpoint",
		"18.251-21.000 healthy",
		"21.005-22.551 n1 under failpoint",
		"22.551-24.000 n1 crashed by a failpoint; n1 under failpoint",
		"24.170-30.000 healthy",
	}, got)
}

// TestTimelineWithoutCleanSides: in a majorities ring every node reaches
// a majority, so every node may serve although no two see the same one; a
// bridge's halves reach a quorum through the node in the middle.
func TestTimelineWithoutCleanSides(t *testing.T) {
	ring := State{Grudge: map[string][]string{"n1": {"n3", "n4"}, "n2": {"n4", "n5"}, "n3": {"n5", "n1"}, "n4": {"n1", "n2"}, "n5": {"n2", "n3"}}}.clone()
	_, clean := ring.Sides(five)
	assert.False(t, clean)
	for _, n := range five {
		assert.True(t, ring.MayServe(n, five), n)
	}
	bridge := State{Grudge: map[string][]string{"n1": {"n4", "n5"}, "n2": {"n4", "n5"}, "n4": {"n1", "n2"}, "n5": {"n1", "n2"}}}.clone()
	for _, n := range five {
		assert.True(t, bridge.MayServe(n, five), "%s reaches n3, which reaches everyone", n)
	}
	bridge.Down["n3"] = "pause"
	for _, n := range five {
		assert.False(t, bridge.MayServe(n, five), "%s: with the bridge paused no side holds 3 of 5", n)
	}
	removed := State{}.clone()
	removed.Removed["n5"], removed.Down["n5"] = true, "removed"
	removed.Down["n4"] = "kill"
	assert.Equal(t, 3, removed.Quorum(five), "4 members: a quorum is 3")
	assert.True(t, removed.MayServe("n1", five))
}

// TestTimelineUnknownState: a fault op whose effect is unknown leaves the
// state unknown until the final heal; a refused one changes nothing.
func TestTimelineUnknownState(t *testing.T) {
	h := harness.History{
		nemesisOp(1000, harness.Invoke, Pause, `{"targets":"one"}`),
		nemesisOp(1100, harness.Fail, Pause, ""),
		nemesisOp(2000, harness.Invoke, Kill, `{"targets":"one"}`),
		nemesisOp(2100, harness.Info, Kill, `{"nodes":["n1"]}`),
		nemesisOp(3000, harness.Invoke, Heal, ""),
		nemesisOp(3100, harness.OK, Heal, ""),
	}
	segs := Timeline(h)
	require.Len(t, segs, 4)
	assert.True(t, segs[1].State.Healthy(), "a refused pause changed nothing")
	assert.Contains(t, segs[2].State.Unknown, "kill may be partly applied")
	assert.True(t, segs[3].State.Healthy())
}
