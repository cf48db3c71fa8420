package harness_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/harnesstest"
)

func runFake(t *testing.T, ctx context.Context, limit time.Duration, store *harnesstest.Store, nem *harnesstest.Nemesis, schedule []harness.Step) (harness.History, *harnesstest.Cluster, bool) {
	t.Helper()
	cluster := harnesstest.NewCluster(3)
	recovered := false
	cfg := harness.RunConfig{
		Cluster:     cluster,
		Concurrency: 6,
		Rate:        2000,
		TimeLimit:   limit,
		OpTimeout:   time.Second,
		Seed:        42,
		Generator:   &harnesstest.Generator{},
		OpenClient:  func(context.Context, harness.Node) (harness.Client, error) { return store.Client(), nil },
		Nemesis:     nem,
		Schedule:    schedule,
		Recorder:    harness.NewMemoryRecorder(),
		Recover:     func(context.Context) error { recovered = true; return nil },
		FinalOps:    []harness.Op{{F: "read", Key: "k", Node: "n2"}},
	}
	h, err := harness.Run(ctx, cfg)
	require.NoError(t, err)
	return h, cluster, recovered
}

func TestRunRecordsAWellFormedHistory(t *testing.T) {
	store := &harnesstest.Store{InfoEvery: 7}
	nem := &harnesstest.Nemesis{}
	schedule := []harness.Step{{At: 50 * time.Millisecond, F: "start-partition"}, {At: 100 * time.Millisecond, F: "stop-partition"}, {At: 10 * time.Second, F: "never"}}
	h, _, recovered := runFake(t, context.Background(), 300*time.Millisecond, store, nem, schedule)

	require.NoError(t, h.Validate())
	assert.True(t, recovered, "the final phase must recover the cluster")
	assert.Equal(t, []string{"start-partition", "stop-partition"}, nem.Ops(), "steps past the time limit must not run")
	assert.Equal(t, 1, nem.Heals(), "the final phase heals exactly once")

	pairs := h.Client().Pairs()
	require.Greater(t, len(pairs), 50, "6 threads at 2000/s for 0.3 s should perform many ops")
	infos := 0
	retired := map[harness.Process]bool{}
	for _, p := range pairs {
		require.NotNil(t, p.Completion, "op %d never completed", p.Invoke.Index)
		if p.Completion.Type == harness.Info {
			infos++
			retired[p.Invoke.Process] = true
		}
	}
	require.Greater(t, infos, 0)
	for _, p := range pairs {
		if retired[p.Invoke.Process] {
			assert.Equal(t, harness.Info, lastOf(pairs, p.Invoke.Process).Completion.Type, "a process that saw info must invoke nothing after it")
		}
	}
	last := pairs[len(pairs)-1]
	assert.Equal(t, "n2", last.Invoke.Node, "the final read runs last, on the node it names")

	nemesisOps := h.Nemesis()
	require.Len(t, nemesisOps, 6, "two scheduled steps and the final heal, each invoked and completed")
	assert.GreaterOrEqual(t, nemesisOps[0].Time, 50*time.Millisecond, "a step must not run before its time")
	assert.Equal(t, "heal", nemesisOps[4].F)
}

func lastOf(pairs []harness.Pair, p harness.Process) harness.Pair {
	var last harness.Pair
	for _, pr := range pairs {
		if pr.Invoke.Process == p {
			last = pr
		}
	}
	return last
}

func TestRunHealsAfterInterrupt(t *testing.T) {
	store := harnesstest.NewStore()
	nem := &harnesstest.Nemesis{}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	h, _, recovered := runFake(t, ctx, time.Hour, store, nem, []harness.Step{{At: 10 * time.Millisecond, F: "start-partition"}})
	assert.Less(t, time.Since(start), 5*time.Second, "an interrupt must end the run promptly")
	assert.Equal(t, 1, nem.Heals(), "an interrupted run still heals")
	assert.False(t, recovered, "an interrupted run skips recovery and final reads")
	require.NoError(t, h.Validate())
}

func TestRunRejectsBadConfig(t *testing.T) {
	_, err := harness.Run(context.Background(), harness.RunConfig{Cluster: harnesstest.NewCluster(3)})
	require.Error(t, err)
}

// reportingNemesis says what its heal did.
type reportingNemesis struct{ harnesstest.Nemesis }

func (*reportingNemesis) HealReport() any { return map[string][]string{"restarted": {"n2"}} }

func TestHealReportIsTheHealValue(t *testing.T) {
	store := harnesstest.NewStore()
	cluster := harnesstest.NewCluster(3)
	h, err := harness.Run(context.Background(), harness.RunConfig{
		Cluster: cluster, Concurrency: 1, TimeLimit: 20 * time.Millisecond, OpTimeout: time.Second, Seed: 1,
		Generator: &harnesstest.Generator{}, OpenClient: func(context.Context, harness.Node) (harness.Client, error) { return store.Client(), nil },
		Nemesis: &reportingNemesis{}, Recorder: harness.NewMemoryRecorder(),
	})
	require.NoError(t, err)
	heal := h.Nemesis()
	require.Len(t, heal, 2)
	assert.Equal(t, harness.OK, heal[1].Type)
	assert.JSONEq(t, `{"restarted":["n2"]}`, string(heal[1].Value), "the heal op records what the heal did")
}

// TestNemesisPanicStillHeals: a nemesis that panics mid-op is a harness
// bug, reported as an error, with its op completed as info and the panic
// as its error; the run still heals, recovers and returns its history.
func TestNemesisPanicStillHeals(t *testing.T) {
	nem := &harnesstest.Nemesis{Panic: "start-partition"}
	recovered := false
	h, err := harness.Run(context.Background(), harness.RunConfig{
		Cluster: harnesstest.NewCluster(3), Concurrency: 2, Rate: 500, TimeLimit: 200 * time.Millisecond, OpTimeout: time.Second, Seed: 1,
		Generator: &harnesstest.Generator{}, OpenClient: func(context.Context, harness.Node) (harness.Client, error) {
			return harnesstest.NewStore().Client(), nil
		},
		Nemesis: nem, Schedule: []harness.Step{{At: 20 * time.Millisecond, F: "start-partition"}, {At: 40 * time.Millisecond, F: "stop-partition"}},
		Recorder: harness.NewMemoryRecorder(), Recover: func(context.Context) error { recovered = true; return nil },
	})
	require.ErrorContains(t, err, "nemesis start-partition panicked")
	require.NoError(t, h.Validate())
	assert.Equal(t, 1, nem.Heals(), "the final phase still heals")
	assert.True(t, recovered, "and still recovers")
	ops := h.Nemesis()
	require.Len(t, ops, 4, "the panicked op, completed, and the heal")
	assert.Equal(t, harness.Info, ops[1].Type)
	assert.Contains(t, ops[1].Error, "nemesis panicked")
	assert.NotContains(t, nem.Ops(), "stop-partition", "the schedule stops after a panic")
}

// TestProbesShowEachNodesRecovery: after the final heal every node is
// probed until it answers ok, each on its own; a node that never answers
// is probed until the recover timeout, and every probe is in the history.
// An exit the cluster reports is recorded as the monitor's op.
func TestProbesShowEachNodesRecovery(t *testing.T) {
	cluster := harnesstest.NewCluster(3)
	cluster.Exits = make(chan harness.Exit, 1)
	cluster.Exits <- harness.Exit{Node: "n2", Code: 2, Line: "panic: boom"}
	started := time.Now()
	down := map[string]time.Duration{"n2": 300 * time.Millisecond, "n3": time.Hour}
	store := harnesstest.NewStore()
	store.Bug = func(op, done harness.Op) harness.Op {
		if op.F == harness.ProbeF && time.Since(started) < down[op.Node] {
			done.Type, done.Error = harness.Fail, "not yet"
		}
		return done
	}
	h, err := harness.Run(context.Background(), harness.RunConfig{
		Cluster: cluster, Concurrency: 1, Rate: 100, TimeLimit: 50 * time.Millisecond, OpTimeout: time.Second, Seed: 1,
		Generator: &harnesstest.Generator{}, Recorder: harness.NewMemoryRecorder(),
		OpenClient: func(context.Context, harness.Node) (harness.Client, error) { return store.Client(), nil },
		OpenProbe: func(_ context.Context, n harness.Node) (harness.Client, error) {
			return nodeClient{store.Client(), n.Name}, nil
		},
		RecoverTimeout: time.Second,
	})
	require.NoError(t, err)
	require.NoError(t, h.Validate())
	probes := map[string][]harness.Type{}
	for _, p := range h.Pairs() {
		if p.Invoke.F == harness.ProbeF {
			probes[p.Invoke.Node] = append(probes[p.Invoke.Node], p.Completion.Type)
		}
	}
	assert.Equal(t, []harness.Type{harness.OK}, probes["n1"], "a healthy node answers the first probe")
	require.Greater(t, len(probes["n2"]), 1, "n2 is probed until it answers")
	assert.Equal(t, harness.OK, probes["n2"][len(probes["n2"])-1])
	assert.Greater(t, len(probes["n3"]), 2, "n3 never answers and is probed until the timeout")
	assert.NotContains(t, probes["n3"], harness.OK)
	exits := 0
	for _, op := range h {
		if op.Process == harness.MonitorProcess && op.Type != harness.Invoke {
			exits++
			assert.Equal(t, harness.ProcessExit, op.F)
			assert.Equal(t, "n2", op.Node)
			assert.JSONEq(t, `{"node":"n2","code":2,"line":"panic: boom"}`, string(op.Value))
		}
	}
	assert.Equal(t, 1, exits)
}

// nodeClient stamps its node on every op, as the runner does after Invoke.
type nodeClient struct {
	harness.Client
	node string
}

func (c nodeClient) Invoke(ctx context.Context, op harness.Op) harness.Op {
	op.Node = c.node
	return c.Client.Invoke(ctx, op)
}

// deadlineClient answers every op ok with the time left before its
// deadline, in milliseconds; ops named "slow" ask for a bound of 5 s.
type deadlineClient struct{}

func (deadlineClient) Invoke(ctx context.Context, op harness.Op) harness.Op {
	done := op.Completion(harness.OK)
	deadline, _ := ctx.Deadline()
	done.Value = harness.MustValue(time.Until(deadline).Milliseconds())
	return done
}

func (deadlineClient) Close() error { return nil }

func (deadlineClient) OpTimeout(op harness.Op, def time.Duration) time.Duration {
	if op.F == "slow" {
		return 5 * time.Second
	}
	return 0
}

// TestTimeouterChoosesAnOpsBound: a client that is a Timeouter bounds its
// slow final op by its own choice, and every other op by the run's op
// timeout.
func TestTimeouterChoosesAnOpsBound(t *testing.T) {
	cfg := harness.RunConfig{
		Cluster: harnesstest.NewCluster(1), Concurrency: 1, Rate: 50,
		TimeLimit: 100 * time.Millisecond, OpTimeout: 200 * time.Millisecond, Seed: 1,
		Generator:  &harnesstest.Generator{},
		OpenClient: func(context.Context, harness.Node) (harness.Client, error) { return deadlineClient{}, nil },
		Recorder:   harness.NewMemoryRecorder(),
		FinalOps:   []harness.Op{{F: "slow", Node: "n1"}},
	}
	h, err := harness.Run(context.Background(), cfg)
	require.NoError(t, err)
	var slow, other int64
	for _, op := range h {
		if op.Type != harness.OK {
			continue
		}
		var left int64
		require.NoError(t, op.DecodeValue(&left))
		if op.F == "slow" {
			slow = left
		} else {
			other = max(other, left)
		}
	}
	assert.Greater(t, slow, int64(4000), "the slow op is bounded by the client's 5 s")
	assert.Positive(t, other, "some op ran before the time limit")
	assert.LessOrEqual(t, other, int64(200), "other ops keep the run's op timeout")
}
