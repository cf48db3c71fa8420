package harness

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"sync"
)

// fakeCluster is an in-memory cluster: it records execs and tracks which
// DB processes are up.
type fakeCluster struct {
	mu    sync.Mutex
	nodes []Node
	down  map[string]bool
	execs []string
}

func newFakeCluster(n int) *fakeCluster {
	c := &fakeCluster{down: map[string]bool{}}
	for i := 1; i <= n; i++ {
		c.nodes = append(c.nodes, Node{Name: fmt.Sprintf("n%d", i), IP: fmt.Sprintf("10.0.0.%d", i+1)})
	}
	return c
}

func (c *fakeCluster) Nodes() []Node { return c.nodes }
func (c *fakeCluster) Exec(_ context.Context, n Node, cmd ...string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.execs = append(c.execs, n.Name+": "+strings.Join(cmd, " "))
	return "", nil
}
func (c *fakeCluster) Kill(_ context.Context, n Node) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down[n.Name] = true
	return nil
}
func (c *fakeCluster) Start(_ context.Context, n Node) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.down, n.Name)
	return nil
}
func (c *fakeCluster) Leader(context.Context) (Node, error) { return c.nodes[0], nil }

// fakeStore is a linearizable in-memory register store. Every infoEvery-th
// write returns info after taking effect, as a timed-out write might.
type fakeStore struct {
	mu        sync.Mutex
	values    map[string]int
	writes    int
	infoEvery int
}

type fakeClient struct{ store *fakeStore }

func (f fakeClient) Invoke(_ context.Context, op Op) Op {
	s := f.store
	s.mu.Lock()
	defer s.mu.Unlock()
	switch op.F {
	case "write":
		var v int
		if err := op.DecodeValue(&v); err != nil {
			return op.Completion(Fail)
		}
		s.values[op.Key] = v
		s.writes++
		if s.infoEvery > 0 && s.writes%s.infoEvery == 0 {
			done := op.Completion(Info)
			done.Error = "timeout"
			return done
		}
		return op.Completion(OK)
	case "read":
		done := op.Completion(OK)
		done.Value = MustValue(s.values[op.Key])
		return done
	}
	return op.Completion(Fail)
}

func (fakeClient) Close() error { return nil }

// rwGenerator alternates writes of random values and reads of one key.
type rwGenerator struct{ n int }

func (g *rwGenerator) Next(r *rand.Rand, _ Process) (Op, bool) {
	g.n++
	if g.n%2 == 0 {
		return Op{F: "read", Key: "k"}, true
	}
	return Op{F: "write", Key: "k", Value: MustValue(r.Intn(5))}, true
}

// fakeNemesis records what it was asked to do.
type fakeNemesis struct {
	mu     sync.Mutex
	ops    []string
	healed int
}

func (n *fakeNemesis) Invoke(_ context.Context, _ Cluster, op Op) Op {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ops = append(n.ops, op.F)
	return op.Completion(OK)
}

func (n *fakeNemesis) Heal(context.Context, Cluster) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.healed++
	return nil
}
