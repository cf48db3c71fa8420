package harness

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runFake(t *testing.T, ctx context.Context, limit time.Duration, store *fakeStore, nem *fakeNemesis, schedule []Step) (History, *fakeCluster, bool) {
	t.Helper()
	cluster := newFakeCluster(3)
	recovered := false
	cfg := RunConfig{
		Cluster:     cluster,
		Concurrency: 6,
		Rate:        2000,
		TimeLimit:   limit,
		OpTimeout:   time.Second,
		Seed:        42,
		Generator:   &rwGenerator{},
		OpenClient:  func(context.Context, Node) (Client, error) { return fakeClient{store}, nil },
		Nemesis:     nem,
		Schedule:    schedule,
		Recorder:    NewMemoryRecorder(),
		Recover:     func(context.Context) error { recovered = true; return nil },
		FinalOps:    []Op{{F: "read", Key: "k", Node: "n2"}},
	}
	h, err := Run(ctx, cfg)
	require.NoError(t, err)
	return h, cluster, recovered
}

func TestRunRecordsAWellFormedHistory(t *testing.T) {
	store := &fakeStore{values: map[string]int{}, infoEvery: 7}
	nem := &fakeNemesis{}
	schedule := []Step{{At: 50 * time.Millisecond, F: "start-partition"}, {At: 100 * time.Millisecond, F: "stop-partition"}, {At: 10 * time.Second, F: "never"}}
	h, _, recovered := runFake(t, context.Background(), 300*time.Millisecond, store, nem, schedule)

	require.NoError(t, h.Validate())
	assert.True(t, recovered, "the final phase must recover the cluster")
	assert.Equal(t, []string{"start-partition", "stop-partition"}, nem.ops, "steps past the time limit must not run")
	assert.Equal(t, 1, nem.healed, "the final phase heals exactly once")

	pairs := h.Client().Pairs()
	require.Greater(t, len(pairs), 50, "6 threads at 2000/s for 0.3 s should perform many ops")
	infos := 0
	retired := map[Process]bool{}
	for _, p := range pairs {
		require.NotNil(t, p.Completion, "op %d never completed", p.Invoke.Index)
		if p.Completion.Type == Info {
			infos++
			retired[p.Invoke.Process] = true
		}
	}
	require.Greater(t, infos, 0)
	for _, p := range pairs {
		if retired[p.Invoke.Process] {
			assert.Equal(t, Info, lastOf(pairs, p.Invoke.Process).Completion.Type, "a process that saw info must invoke nothing after it")
		}
	}
	last := pairs[len(pairs)-1]
	assert.Equal(t, "n2", last.Invoke.Node, "the final read runs last, on the node it names")

	nemesisOps := h.Nemesis()
	require.Len(t, nemesisOps, 6, "two scheduled steps and the final heal, each invoked and completed")
	assert.GreaterOrEqual(t, nemesisOps[0].Time, 50*time.Millisecond, "a step must not run before its time")
	assert.Equal(t, "heal", nemesisOps[4].F)
}

func lastOf(pairs []Pair, p Process) Pair {
	var last Pair
	for _, pr := range pairs {
		if pr.Invoke.Process == p {
			last = pr
		}
	}
	return last
}

func TestRunHealsAfterInterrupt(t *testing.T) {
	store := &fakeStore{values: map[string]int{}}
	nem := &fakeNemesis{}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	h, _, recovered := runFake(t, ctx, time.Hour, store, nem, []Step{{At: 10 * time.Millisecond, F: "start-partition"}})
	assert.Less(t, time.Since(start), 5*time.Second, "an interrupt must end the run promptly")
	assert.Equal(t, 1, nem.healed, "an interrupted run still heals")
	assert.False(t, recovered, "an interrupted run skips recovery and final reads")
	require.NoError(t, h.Validate())
}

func TestRunRejectsBadConfig(t *testing.T) {
	_, err := Run(context.Background(), RunConfig{Cluster: newFakeCluster(3)})
	require.Error(t, err)
}

// reportingNemesis says what its heal did.
type reportingNemesis struct{ fakeNemesis }

func (*reportingNemesis) HealReport() any { return map[string][]string{"restarted": {"n2"}} }

func TestHealReportIsTheHealValue(t *testing.T) {
	store := &fakeStore{values: map[string]int{}}
	cluster := newFakeCluster(3)
	h, err := Run(context.Background(), RunConfig{
		Cluster: cluster, Concurrency: 1, TimeLimit: 20 * time.Millisecond, OpTimeout: time.Second, Seed: 1,
		Generator: &rwGenerator{}, OpenClient: func(context.Context, Node) (Client, error) { return fakeClient{store}, nil },
		Nemesis: &reportingNemesis{}, Recorder: NewMemoryRecorder(),
	})
	require.NoError(t, err)
	heal := h.Nemesis()
	require.Len(t, heal, 2)
	assert.Equal(t, OK, heal[1].Type)
	assert.JSONEq(t, `{"restarted":["n2"]}`, string(heal[1].Value), "the heal op records what the heal did")
}
