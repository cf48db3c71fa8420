package nemesis

import (
	"encoding/json"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

func TestOneFaultAlternatesAndReplays(t *testing.T) {
	opts := Options{Faults: []string{"partition"}, Nodes: 5, Layout: "halves", Interval: 10 * time.Second}
	a := Schedule(opts, 60*time.Second, rand.New(rand.NewSource(5)))
	b := Schedule(opts, 60*time.Second, rand.New(rand.NewSource(5)))
	assert.Equal(t, a, b, "the same seed gives the same schedule")
	require.Len(t, a, 5, "steps at 10..50 s; the one at 60 s is left to the final heal")
	for i, s := range a {
		assert.Equal(t, time.Duration(i+1)*10*time.Second, s.At)
		assert.Equal(t, []string{fault.StartPartition, fault.StopPartition}[i%2], s.F)
	}
	assert.Empty(t, Schedule(Options{}, time.Minute, rand.New(rand.NewSource(1))))
	c := Schedule(opts, 60*time.Second, rand.New(rand.NewSource(6)))
	assert.NotEqual(t, a[0].Value, c[0].Value, "another seed draws other choices")
}

// replaySchedule tracks what a schedule leaves in force, step by step.
func TestMixedScheduleKeepsItsInvariants(t *testing.T) {
	opts := Options{Faults: fault.Names(), Nodes: 5, Layout: "halves", FaultTargets: map[string]string{"pause": "leader"}, Interval: time.Second}
	kinds := map[string]int{}
	overlaps := 0
	for seed := int64(1); seed <= 50; seed++ {
		steps := Schedule(opts, 200*time.Second, rand.New(rand.NewSource(seed)))
		require.NoError(t, ValidateSchedule(steps, 5), "seed %d", seed)
		inForce := map[string]bool{}
		members := NodeNames(5)
		for _, s := range steps {
			k, _ := fault.Of(s.F)
			kind := k.Name
			kinds[s.F]++
			switch s.F {
			case fault.MemberRemove, fault.MemberAdd:
				var v memberValue
				require.NoError(t, json.Unmarshal(s.Value, &v))
				for k, on := range inForce {
					assert.False(t, on, "seed %d: member step while %s is in force", seed, k)
				}
				if s.F == fault.MemberRemove {
					require.Contains(t, members, v.Node)
					members = without(members, []string{v.Node})
					assert.GreaterOrEqual(t, len(members), MinMembers, "seed %d: never below %d members", seed, MinMembers)
				} else {
					require.NotContains(t, members, v.Node)
					members = append(members, v.Node)
				}
			case k.Start:
				if k.Effect == fault.Instant {
					assert.Len(t, members, 5, "seed %d: %s while a member is removed", seed, kind)
					continue
				}
				assert.False(t, inForce[kind], "seed %d: %s started twice", seed, kind)
				assert.Len(t, members, 5, "seed %d: %s started while a member is removed", seed, kind)
				for k, on := range inForce {
					other, _ := fault.Lookup(k)
					assert.False(t, on && other.Layer == fault.Layer(layerOf(kind)), "seed %d: %s and %s overlap", seed, k, kind)
					if on {
						overlaps++
					}
				}
				inForce[kind] = true
			case k.Stop:
				assert.True(t, inForce[kind], "seed %d: %s stopped while not in force", seed, kind)
				inForce[kind] = false
			}
		}
	}
	for _, f := range []string{fault.StartPartition, fault.Kill, fault.Pause, fault.StartCrash, fault.StartLoss, fault.StartBandwidth, fault.StartDelay, fault.MemberRemove, fault.MemberAdd,
		fault.StartFailpoint, fault.Compact, fault.Defrag, fault.LeaderTransfer, fault.Snapshot} {
		assert.Positive(t, kinds[f], "%s must be drawn", f)
	}
	assert.Positive(t, overlaps, "faults of different layers must overlap sometimes")
}

func TestScheduleValuesCarryTheOptions(t *testing.T) {
	opts := Options{Faults: []string{"loss"}, Nodes: 3, FaultOptions: harness.Options{"loss-probability": "0.3"}, FaultTargets: map[string]string{"loss": "all"}, Interval: time.Second}
	steps := Schedule(opts, 3*time.Second, rand.New(rand.NewSource(1)))
	require.Len(t, steps, 2)
	var v faultValue
	require.NoError(t, json.Unmarshal(steps[0].Value, &v))
	assert.Equal(t, "all", v.Targets)
	assert.Equal(t, 0.3, v.Probability)

	opts = Options{Faults: []string{"kill"}, Nodes: 3, FaultOptions: harness.Options{"kill-count": "2"}, FaultTargets: map[string]string{"kill": "minority"}, Interval: time.Second}
	steps = Schedule(opts, 2*time.Second, rand.New(rand.NewSource(1)))
	require.NoError(t, json.Unmarshal(steps[0].Value, &v))
	assert.Equal(t, "minority", v.Targets, "kills take their own target choice")
	assert.Equal(t, 2, v.Count)
	steps = Schedule(Options{Faults: []string{"delay", "bandwidth"}, Nodes: 3, Interval: time.Second}, 2*time.Second, rand.New(rand.NewSource(1)))
	require.NoError(t, json.Unmarshal(steps[0].Value, &v))
	assert.True(t, v.Delay == "50ms" || v.Rate == "1mbit", "an option not given takes its default: %s", steps[0].Value)
}

func TestMemberNeedsANodeToSpare(t *testing.T) {
	assert.ErrorContains(t, ValidateFaults([]string{"member"}, 3), "at least 4 nodes")
	assert.NoError(t, ValidateFaults([]string{"member"}, 4))
	assert.NoError(t, ValidateFaults([]string{"kill"}, 1))
	steps := Schedule(Options{Faults: []string{"member"}, Nodes: 4, Interval: time.Second}, 11*time.Second, rand.New(rand.NewSource(1)))
	require.Len(t, steps, 10)
	for i, s := range steps {
		assert.Equal(t, []string{fault.MemberRemove, fault.MemberAdd}[i%2], s.F, "4 nodes can only shrink to 3 and grow back")
	}
}

func TestValidateScheduleNamesTheBadStep(t *testing.T) {
	good := []harness.Step{
		{At: time.Second, F: fault.StartPartition, Value: json.RawMessage(`{"layout":"n1|n2,n3","seed":1}`)},
		{At: 2 * time.Second, F: fault.StartCrash, Value: json.RawMessage(`{"nodes":["n1"],"seed":0}`)},
		{At: 3 * time.Second, F: fault.StopCrash},
		{At: 4 * time.Second, F: fault.StopPartition},
	}
	require.NoError(t, ValidateSchedule(good, 3))
	assert.Equal(t, []string{"partition", "crash"}, ScheduleFaults(good))
	bad := map[string]harness.Step{
		"unknown nemesis op":   {F: "flood"},
		"not one of n1..n3":    {F: fault.Kill, Value: json.RawMessage(`{"nodes":["n7"],"seed":1}`)},
		"unknown field":        {F: fault.Pause, Value: json.RawMessage(`{"targets":"one","sed":1}`)},
		"not in [0, 1]":        {F: fault.StartLoss, Value: json.RawMessage(`{"targets":"one","probability":2}`)},
		"unknown layout":       {F: fault.StartPartition, Value: json.RawMessage(`{"layout":"sideways"}`)},
		"no value":             {F: fault.MemberAdd},
		"targets \"everyone\"": {F: fault.Kill, Value: json.RawMessage(`{"targets":"everyone"}`)},
		"at least 4 nodes":     {F: fault.MemberRemove, Value: json.RawMessage(`{"node":"n1"}`)},
	}
	for want, step := range bad {
		err := ValidateSchedule([]harness.Step{step}, 3)
		assert.ErrorContains(t, err, want)
	}
	backwards := slices.Clone(good)
	backwards[3].At = 0
	assert.ErrorContains(t, ValidateSchedule(backwards, 3), "time order")
}

func TestPickTargets(t *testing.T) {
	nodes := NodeNames(5)
	r := rand.New(rand.NewSource(2))
	sizes := map[string]int{"one": 1, "minority": 2, "majority": 3, "all": 5}
	for targets, want := range sizes {
		got, err := pickTargets(targets, 0, nodes, "", r)
		require.NoError(t, err)
		assert.Len(t, got, want, targets)
	}
	got, err := pickTargets("leader", 0, nodes, "n3", r)
	require.NoError(t, err)
	assert.Equal(t, []string{"n3"}, got)
	got, err = pickTargets("one", 4, nodes, "", r)
	require.NoError(t, err)
	assert.Len(t, got, 4, "an explicit count wins")
	_, err = pickTargets("leader", 0, nodes, "", r)
	assert.Error(t, err)
	seen := map[string]bool{}
	for range 50 {
		got, err = pickTargets("follower", 0, nodes, "n3", r)
		require.NoError(t, err)
		require.Len(t, got, 1)
		seen[got[0]] = true
	}
	assert.Equal(t, map[string]bool{"n1": true, "n2": true, "n4": true, "n5": true}, seen, "every follower, never the leader")
	_, err = pickTargets("follower", 0, []string{"n1"}, "n1", r)
	assert.ErrorContains(t, err, "only node")
	_, err = pickTargets("follower", 0, nodes, "", r)
	assert.Error(t, err)
}

// layerOf is the layer of a kind, by name.
func layerOf(kind string) string {
	k, _ := fault.Lookup(kind)
	return string(k.Layer)
}

func TestValidateScheduleRefusesStepsOutOfOrder(t *testing.T) {
	step := func(at int, f, value string) harness.Step {
		s := harness.Step{At: time.Duration(at) * time.Second, F: f}
		if value != "" {
			s.Value = json.RawMessage(value)
		}
		return s
	}
	kill := `{"targets":"one","seed":1}`
	for want, steps := range map[string][]harness.Step{
		"not in force":       {step(1, fault.StopCrash, "")},
		"already in force":   {step(1, fault.Kill, kill), step(2, fault.Kill, kill)},
		"never overlap":      {step(1, fault.Kill, kill), step(2, fault.Pause, kill)},
		"was not removed":    {step(1, fault.MemberAdd, `{"node":"n2"}`)},
		"not a member here":  {step(1, fault.MemberRemove, `{"node":"n2"}`), step(2, fault.MemberRemove, `{"node":"n2"}`)},
		"never goes below 3": {step(1, fault.MemberRemove, `{"node":"n2"}`), step(2, fault.MemberRemove, `{"node":"n3"}`)},
		"takes no value":     {step(1, fault.Kill, kill), step(2, fault.StartKilled, `{"nodes":["n1"]}`)},
		"more than one JSON": {step(1, fault.Kill, kill+`{}`)},
		"count 9":            {step(1, fault.Kill, `{"targets":"one","count":9,"seed":1}`)},
	} {
		assert.ErrorContains(t, ValidateSchedule(steps, 4), want)
	}
	assert.NoError(t, ValidateSchedule([]harness.Step{step(1, fault.Kill, kill), step(2, fault.StartPartition, `{"layout":"halves","seed":2}`),
		step(3, fault.StartKilled, ""), step(4, fault.StopPartition, "")}, 4), "a kill inside a partition is fine")
}
