package harness

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlaceChoosesEachThreadsNode runs odd threads as failover clients: they
// are opened against FailoverNode and their ops carry it, while even
// threads stay pinned.
func TestPlaceChoosesEachThreadsNode(t *testing.T) {
	store := &fakeStore{values: map[string]int{}}
	var mu sync.Mutex
	opened := map[string]int{}
	cfg := RunConfig{
		Cluster: newFakeCluster(3), Concurrency: 4, Rate: 2000, TimeLimit: 200 * time.Millisecond,
		OpTimeout: time.Second, Seed: 1, Generator: &rwGenerator{}, Recorder: NewMemoryRecorder(),
		OpenClient: func(_ context.Context, n Node) (Client, error) {
			mu.Lock()
			defer mu.Unlock()
			opened[n.Name]++
			return fakeClient{store}, nil
		},
		Place: func(i int, nodes []Node) Node {
			if i%2 == 1 {
				return Node{Name: FailoverNode}
			}
			return nodes[(i/2)%len(nodes)]
		},
	}
	h, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"n1": 1, "n2": 1, FailoverNode: 2}, opened)
	byNode := map[string]int{}
	for _, op := range h.Client() {
		byNode[op.Node]++
		want := FailoverNode
		if op.Process%2 == 0 {
			want = []string{"n1", "n2"}[(int(op.Process)%4)/2]
		}
		require.Equal(t, want, op.Node, "op %d of process %v", op.Index, op.Process)
	}
	assert.Positive(t, byNode[FailoverNode])
	assert.Positive(t, byNode["n1"])
}
