package main

// End-to-end tests of the faults beyond partitions and kills: pauses,
// crashes, membership changes, replays and the bad input around them. Like
// every end-to-end test here they run the real binary against real etcd
// in real containers, and fail, never skip, without Docker. Each keeps its
// time limit at 30 s or less.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/results"
	"github.com/faultline/faultline/targets/docker"
)

// faultRun runs faultline test with args in a fresh store and returns the
// result and the run's directory.
func faultRun(t *testing.T, args ...string) (result, string) {
	t.Helper()
	store := t.TempDir()
	r := runFaultline(t, 5*time.Minute, append([]string{"test", "--store", store}, args...)...)
	dir, err := filepath.EvalSymlinks(filepath.Join(store, "latest"))
	require.NoError(t, err, "the run must be stored:\n%s", r.stderr)
	return r, dir
}

// runHistory reads and validates a stored run's history.
func runHistory(t *testing.T, dir string) harness.History {
	t.Helper()
	h, err := harness.ReadJSONLFile(filepath.Join(dir, results.HistoryFile))
	require.NoError(t, err)
	require.NoError(t, h.Validate())
	return h
}

// nemesisPairs returns the completed nemesis ops of h with function f.
func nemesisPairs(h harness.History, f string) []harness.Pair {
	var out []harness.Pair
	for _, p := range h.Nemesis().Pairs() {
		if p.Invoke.F == f && p.Completion != nil {
			out = append(out, p)
		}
	}
	return out
}

// effectOf decodes a nemesis completion's value.
func effectOf(t *testing.T, p harness.Pair, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(p.Completion.Value, v), "%s: %s", p.Invoke.F, p.Completion.Value)
}

// clientOps counts the client completions on node whose invocation came
// after from and whose completion came before to, all of them and the ok
// ones; f, when not empty, restricts them to that function.
func clientOps(h harness.History, node, f string, from, to time.Duration) (all, ok int) {
	for _, p := range h.Client().Pairs() {
		c := p.Completion
		if c == nil || p.Invoke.Node != node || p.Invoke.Time < from || c.Time > to || (f != "" && p.Invoke.F != f) {
			continue
		}
		all++
		if c.Type == harness.OK {
			ok++
		}
	}
	return all, ok
}

// TestPausedLeaderIsReplaced pauses the leader twice. While the first is
// frozen, the others elect a new leader and serve writes; the frozen node
// serves nothing. After the resume the old leader must step down (the
// second pause, aimed at the leader, finds another node) and must never
// serve a stale linearizable op, which the linearizability checker would
// catch: the run must be valid.
func TestPausedLeaderIsReplaced(t *testing.T) {
	r, dir := faultRun(t, "--nodes", "3", "--nemesis", "pause", "--fault-targets", "leader",
		"--time-limit", "28", "--nemesis-interval", "8", "--seed", "11")
	require.Equal(t, 0, r.code, "etcd with a paused leader must stay valid:\n%s", r.stderr)
	h := runHistory(t, dir)
	pauses, resumes := nemesisPairs(h, fault.Pause), nemesisPairs(h, fault.Resume)
	require.Len(t, pauses, 2, "pauses at 8 and 24 s")
	require.NotEmpty(t, resumes)
	var first, second nemesis.Effect
	effectOf(t, pauses[0], &first)
	effectOf(t, pauses[1], &second)
	require.Len(t, first.Nodes, 1)
	require.Len(t, second.Nodes, 1)
	old := first.Nodes[0]
	assert.NotEqual(t, old, second.Nodes[0], "after its resume the old leader %s must have stepped down for good", old)

	frozenFrom, frozenTo := pauses[0].Completion.Time, resumes[0].Invoke.Time
	require.Greater(t, frozenTo-frozenFrom, 3*time.Second, "the pause must be in force for a while; the engine is too slow")
	_, okOnOld := clientOps(h, old, "", frozenFrom, frozenTo)
	assert.Zero(t, okOnOld, "a frozen %s serves nothing", old)
	newWrites := 0
	for _, n := range []string{"n1", "n2", "n3"} {
		if n != old {
			_, ok := clientOps(h, n, "write", frozenFrom, frozenTo)
			newWrites += ok
		}
	}
	assert.Positive(t, newWrites, "the majority must elect a new leader and take writes while %s is frozen", old)
	_, okAfter := clientOps(h, old, "", resumes[0].Completion.Time, pauses[1].Invoke.Time)
	assert.Positive(t, okAfter, "the resumed %s must serve again, as a follower", old)
}

// TestCrashDoesNotHealAPartition replays a hand-written schedule: n1 is
// cut off, crashed and rebooted while the partition holds. Docker gives
// the rebooted container a fresh network namespace, which would silently
// heal the partition; the nemesis must cut it off again before its DB
// process starts, so n1 serves nothing until stop-partition, and serves
// again after it.
func TestCrashDoesNotHealAPartition(t *testing.T) {
	store := t.TempDir()
	step := func(at int, f, value string) harness.Step {
		s := harness.Step{At: time.Duration(at) * time.Second, F: f}
		if value != "" {
			s.Value = json.RawMessage(value)
		}
		return s
	}
	spec := harness.Spec{
		Name: "crash-partition", Target: "etcd", Nodes: 3, Workload: "register",
		Nemesis: []string{"partition", "crash"}, Partition: "n1|n2,n3", FaultTargets: map[string]string{"kill": "one"},
		TimeLimit: 28 * time.Second, Concurrency: 6, Rate: 100, NemesisInterval: 2 * time.Second,
		OpTimeout: 2 * time.Second, Seed: 5, CheckTimeout: time.Minute, RecoverTimeout: time.Minute, Store: store,
		Schedule: []harness.Step{
			step(2, fault.StartPartition, `{"layout":"n1|n2,n3","seed":1}`),
			step(4, fault.StartCrash, `{"nodes":["n1"],"seed":1}`),
			step(6, fault.StopCrash, ""),
			step(20, fault.StopPartition, ""),
		},
	}
	file := filepath.Join(t.TempDir(), "test.json")
	raw, err := json.MarshalIndent(spec, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, raw, 0o644))

	r := runFaultline(t, 5*time.Minute, "test", "--replay", file, "--store", store)
	require.Equal(t, 0, r.code, "etcd through a crash inside a partition must stay valid:\n%s", r.stderr)
	h := runHistory(t, latest(t, store))

	reboots := nemesisPairs(h, fault.StopCrash)
	require.Len(t, reboots, 1)
	require.Equal(t, harness.OK, reboots[0].Completion.Type, "stop-crash: %s", reboots[0].Completion.Error)
	var rebooted nemesis.Effect
	effectOf(t, reboots[0], &rebooted)
	assert.Equal(t, nemesis.Grudge{"n1": {"n2", "n3"}}, rebooted.Grudge, "the reboot must re-apply n1's side of the partition")
	heals := nemesisPairs(h, fault.StopPartition)
	require.Len(t, heals, 1)

	cutFrom, cutTo := reboots[0].Completion.Time, heals[0].Invoke.Time
	require.Greater(t, cutTo-cutFrom, 3*time.Second, "the rebooted n1 must spend a while in the partition; the engine is too slow")
	tried, served := clientOps(h, "n1", "", cutFrom, cutTo)
	assert.Positive(t, tried, "clients pinned to n1 must keep trying after its reboot")
	assert.Zero(t, served, "n1 came back inside the partition and must stay cut off until stop-partition (%d ops tried)", tried)
	_, servedAfter := clientOps(h, "n1", "", heals[0].Completion.Time, time.Hour)
	assert.Positive(t, servedAfter, "n1 must serve again once the partition is healed")
}

// TestMemberCyclesOnEtcd removes a member, wipes it and adds it back, over
// and over, on 4 nodes (never fewer than 3 members). Every step is in the
// history; the final heal leaves 4 started members; and the register
// checker confirms that every read matches what was acknowledged.
func TestMemberCyclesOnEtcd(t *testing.T) {
	r, dir := faultRun(t, "--nodes", "4", "--nemesis", "member", "--time-limit", "30", "--nemesis-interval", "1", "--seed", "3")
	require.Equal(t, 0, r.code, "etcd through membership changes must stay valid:\n%s", r.stderr)
	h := runHistory(t, dir)
	removed := map[string]int{}
	cycles := 0
	for _, p := range h.Nemesis().Pairs() {
		if p.Completion == nil || p.Completion.Type != harness.OK {
			continue
		}
		switch p.Invoke.F {
		case fault.MemberRemove:
			var e nemesis.MemberEffect
			effectOf(t, p, &e)
			assert.Len(t, e.Members, 3, "4 members shrink to 3, never fewer")
			assert.NotEmpty(t, e.ID, "the removed member's id is recorded")
			removed[e.Node]++
		case fault.MemberAdd:
			var e nemesis.MemberEffect
			effectOf(t, p, &e)
			require.Positive(t, removed[e.Node], "only a removed node is added back")
			removed[e.Node]--
			cycles++
			assert.Equal(t, []string{"n1", "n2", "n3", "n4"}, e.Members, "the added member is started")
		case fault.Heal:
			var rep nemesis.HealReport
			effectOf(t, p, &rep)
			for _, n := range rep.Readded {
				removed[n]--
				cycles++
			}
			assert.Equal(t, []string{"n1", "n2", "n3", "n4"}, rep.Members, "after the heal MemberList shows 4 started members")
		}
	}
	for n, left := range removed {
		assert.Zero(t, left, "%s was removed and never added back", n)
	}
	t.Logf("%d remove/wipe/re-add cycles", cycles)
	assert.GreaterOrEqual(t, cycles, 3, "30 s hold several cycles even on a busy engine")
}

// TestReplayRepeatsTheNemesisOps runs a mixed schedule drawn from a seed,
// then replays the stored test.json: the schedule is the same data, and
// the nemesis ops (what was invoked, and what it hit) are the same in the
// same order, apart from their times.
func TestReplayRepeatsTheNemesisOps(t *testing.T) {
	// Seed 8 draws partition, pause and loss, overlapping, every 2 s.
	// halves: a layout that does not depend on who leads, which differs
	// from run to run.
	first, dirA := faultRun(t, "--nodes", "3", "--nemesis", "partition,pause,kill,loss", "--partition", "halves", "--time-limit", "13",
		"--nemesis-interval", "2", "--seed", "8")
	require.Equal(t, 0, first.code, first.stderr)
	storeB := t.TempDir()
	second := runFaultline(t, 5*time.Minute, "test", "--replay", filepath.Join(dirA, results.TestFile), "--store", storeB)
	require.Equal(t, 0, second.code, second.stderr)
	dirB := latest(t, storeB)

	var specA, specB harness.Spec
	require.NoError(t, (&results.Run{Dir: dirA}).ReadJSON(results.TestFile, &specA))
	require.NoError(t, (&results.Run{Dir: dirB}).ReadJSON(results.TestFile, &specB))
	assert.Equal(t, specA.Schedule, specB.Schedule, "a replay performs the recorded schedule")
	assert.Equal(t, specA.Seed, specB.Seed)
	assert.NotEmpty(t, specB.Replay)
	require.GreaterOrEqual(t, len(nemesis.ScheduleFaults(specA.Schedule)), 2, "the schedule must mix faults")

	type step struct{ F, Invoked, Completed string }
	steps := func(dir string) []step {
		var out []step
		for _, p := range runHistory(t, dir).Nemesis().Pairs() {
			// The heal and the replicas' hashes at the end are the
			// harness's, not the schedule's.
			if p.Invoke.F == fault.Heal || p.Invoke.F == harness.HashKVF || p.Completion == nil {
				continue
			}
			out = append(out, step{p.Invoke.F, string(p.Invoke.Value), string(p.Completion.Type) + " " + withoutLeader(t, p.Completion.Value)})
		}
		return out
	}
	a, b := steps(dirA), steps(dirB)
	// A step is skipped when the workload ends first, so on a slow
	// engine a run may miss the last one; everything before must match.
	common := min(len(a), len(b))
	require.GreaterOrEqual(t, common, len(specA.Schedule)-1, "both runs must perform (nearly) the whole schedule")
	assert.Equal(t, a[:common], b[:common], "the same nemesis ops, hitting the same nodes, in the same order")
}

// TestBadFaultInputStartsNothing: every bad fault flag and replay file is
// refused with exit 254 and a message naming the flag, before anything is
// built or started.
func TestBadFaultInputStartsNothing(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	require.NoError(t, os.WriteFile(garbage, []byte(`{"target": "etcd", "nodes": `), 0o644))
	badStep := filepath.Join(dir, "badstep.json")
	require.NoError(t, os.WriteFile(badStep, []byte(`{"name":"x","target":"etcd","nodes":3,"workload":"register","time_limit":1000000000,
		"concurrency":1,"op_timeout":1000000000,"seed":1,"check_timeout":1000000000,"recover_timeout":1000000000,"store":"store",
		"schedule":[{"at":1000000000,"f":"flood"}]}`), 0o644))
	cases := []struct {
		args []string
		flag string
		want string
	}{
		{[]string{"--nemesis", "partition,flood"}, "nemesis", `unknown fault "flood"`},
		{[]string{"--nemesis", "member", "--nodes", "3"}, "nemesis", "at least 4 nodes"},
		{[]string{"--loss-probability", "1.5"}, "loss-probability", "between 0 and 1"},
		{[]string{"--loss-probability", "-0.1"}, "loss-probability", "between 0 and 1"},
		{[]string{"--fault-targets", "everyone"}, "fault-targets", "unknown target choice"},
		{[]string{"--nemesis", "bandwidth", "--bandwidth", "fast"}, "bandwidth", "want a number and a unit"},
		{[]string{"--replay", garbage}, "replay", "does not parse"},
		{[]string{"--replay", filepath.Join(dir, "missing.json")}, "replay", "cannot read"},
		{[]string{"--replay", badStep}, "replay", `unknown nemesis op "flood"`},
		{[]string{"--replay", badStep, "--nodes", "5"}, "replay", "--nodes cannot be given with --replay"},
	}
	for _, c := range cases {
		store := t.TempDir()
		start := time.Now()
		r := runFaultline(t, time.Minute, append([]string{"test", "--store", store}, c.args...)...)
		assert.Equal(t, harness.ExitBadInput, r.code, "%v", c.args)
		assert.Contains(t, r.stderr, "--"+c.flag, "%v: the message must name the flag", c.args)
		assert.Contains(t, r.stderr, c.want, "%v", c.args)
		entries, err := os.ReadDir(store)
		require.NoError(t, err)
		assert.Empty(t, entries, "%v: nothing may be stored", c.args)
		assert.NotContains(t, r.stderr, "containers", "%v: no container may be created", c.args)
		assert.Less(t, time.Since(start), 10*time.Second, "%v: bad input is refused at once", c.args)
	}
}

// kernelLine is the progress line saying what the kernel offers.
var kernelLine = regexp.MustCompile(`kernel: .*tc netem (yes|no)`)

// TestDelayNeedsNetem asks for the delay fault. Where the kernel has no
// netem (this machine's has none), the run must refuse it with exit 254,
// say what is missing and what the kernel offers, and leave no container;
// where it has netem, the delay must be injected and the run valid.
func TestDelayNeedsNetem(t *testing.T) {
	cli := dockerClient(t)
	store := t.TempDir()
	r := runFaultline(t, 5*time.Minute, "test", "--nodes", "1", "--nemesis", "delay", "--time-limit", "6",
		"--nemesis-interval", "2", "--store", store)
	m := kernelLine.FindStringSubmatch(r.stderr)
	require.NotNil(t, m, "the run must say what the kernel offers:\n%s", r.stderr)
	if m[1] == "no" {
		assert.Equal(t, harness.ExitBadInput, r.code)
		assert.Contains(t, r.stderr, "--nemesis: fault delay needs tc's netem qdisc")
		assert.Contains(t, r.stderr, "this kernel offers", "it must say what the kernel offers instead")
	} else {
		require.Equal(t, 0, r.code, r.stderr)
		h := runHistory(t, latest(t, store))
		assert.NotEmpty(t, nemesisPairs(h, fault.StartDelay))
	}
	run := regexp.MustCompile(`cluster faultline-([a-z0-9][a-z0-9_.-]*): `).FindStringSubmatch(r.stderr)
	require.NotNil(t, run, r.stderr)
	cs, err := cli.ContainerList(t.Context(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelRun+"="+run[1]))})
	require.NoError(t, err)
	assert.Empty(t, cs, "the probe's cluster must be torn down")
}

// withoutLeader drops the leader a fault op recorded when it began: who
// leads is the run's, not the schedule's.
func withoutLeader(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if len(raw) == 0 {
		return ""
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	delete(v, "leader")
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
