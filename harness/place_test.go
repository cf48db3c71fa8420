package harness_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/harnesstest"
)

// TestPlaceChoosesEachThreadsNode runs odd threads as failover clients: they
// are opened against harness.FailoverNode and their ops carry it, while even
// threads stay pinned.
func TestPlaceChoosesEachThreadsNode(t *testing.T) {
	store := harnesstest.NewStore()
	var mu sync.Mutex
	opened := map[string]int{}
	cfg := harness.RunConfig{
		Cluster: harnesstest.NewCluster(3), Concurrency: 4, Rate: 2000, TimeLimit: 200 * time.Millisecond,
		OpTimeout: time.Second, Seed: 1, Generator: &harnesstest.Generator{}, Recorder: harness.NewMemoryRecorder(),
		OpenClient: func(_ context.Context, n harness.Node) (harness.Client, error) {
			mu.Lock()
			defer mu.Unlock()
			opened[n.Name]++
			return store.Client(), nil
		},
		Place: func(i int, nodes []harness.Node) harness.Node {
			if i%2 == 1 {
				return harness.Node{Name: harness.FailoverNode}
			}
			return nodes[(i/2)%len(nodes)]
		},
	}
	h, err := harness.Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"n1": 1, "n2": 1, harness.FailoverNode: 2}, opened)
	byNode := map[string]int{}
	for _, op := range h.Client() {
		byNode[op.Node]++
		want := harness.FailoverNode
		if op.Process%2 == 0 {
			want = []string{"n1", "n2"}[(int(op.Process)%4)/2]
		}
		require.Equal(t, want, op.Node, "op %d of process %v", op.Index, op.Process)
	}
	assert.Positive(t, byNode[harness.FailoverNode])
	assert.Positive(t, byNode["n1"])
}
