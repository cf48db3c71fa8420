package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"sync"

	"github.com/faultline/faultline/harness"
)

// Nemesis performs the scheduled faults on a cluster and remembers what is
// in force, so that Heal can undo exactly that. It implements
// harness.Nemesis. Ops arrive one at a time from the runner's nemesis
// thread; the mutex only guards against a concurrent Heal on shutdown.
type Nemesis struct {
	mu sync.Mutex
	// grudge is the partition in force, nil when the network is whole.
	grudge Grudge
	// killed holds the nodes whose DB process is down.
	killed map[string]bool
}

// New returns a nemesis with nothing in force.
func New() *Nemesis {
	return &Nemesis{killed: map[string]bool{}}
}

// KillResult is the completion value of kill and start ops.
type KillResult struct {
	Nodes []string `json:"nodes"`
}

// Invoke performs one nemesis op and returns its completion. The completion
// is info when the fault may have been partly applied.
func (m *Nemesis) Invoke(ctx context.Context, c harness.Cluster, op harness.Op) harness.Op {
	m.mu.Lock()
	defer m.mu.Unlock()
	value, err := m.invoke(ctx, c, op)
	if err != nil {
		done := op.Completion(harness.Info)
		done.Error = err.Error()
		return done
	}
	done := op.Completion(harness.OK)
	if value != nil {
		done.Value = harness.MustValue(value)
	}
	return done
}

func (m *Nemesis) invoke(ctx context.Context, c harness.Cluster, op harness.Op) (any, error) {
	names := nodeNames(c.Nodes())
	switch op.F {
	case StartPartition:
		var v partitionValue
		if err := op.DecodeValue(&v); err != nil {
			return nil, err
		}
		leader := ""
		if v.Layout == "leader" || v.Layout == "minority-leader" {
			l, err := c.Leader(ctx)
			if err != nil {
				return nil, fmt.Errorf("find leader: %w", err)
			}
			leader = l.Name
		}
		p, err := Resolve(v.Layout, names, leader, rand.New(rand.NewSource(v.Seed)))
		if err != nil {
			return nil, err
		}
		m.grudge = p.Grudge
		if err := applyGrudge(ctx, c, p.Grudge); err != nil {
			return nil, err
		}
		return p, nil
	case StopPartition:
		m.grudge = nil
		return nil, healNetwork(ctx, c)
	case KillF:
		var v killValue
		if err := op.DecodeValue(&v); err != nil {
			return nil, err
		}
		leader := ""
		if v.Targets == "leader" {
			l, err := c.Leader(ctx)
			if err != nil {
				return nil, fmt.Errorf("find leader: %w", err)
			}
			leader = l.Name
		}
		targets, err := pickTargets(v.Targets, v.Count, names, leader, rand.New(rand.NewSource(v.Seed)))
		if err != nil {
			return nil, err
		}
		for _, t := range targets {
			m.killed[t] = true
		}
		err = eachNamed(c, targets, func(n harness.Node) error { return c.Kill(ctx, n) })
		return KillResult{Nodes: targets}, err
	case StartF:
		return m.restart(ctx, c)
	}
	return nil, fmt.Errorf("nemesis cannot %q", op.F)
}

// restart starts every killed node again.
func (m *Nemesis) restart(ctx context.Context, c harness.Cluster) (KillResult, error) {
	var targets []string
	for n := range m.killed {
		targets = append(targets, n)
	}
	sort.Strings(targets)
	err := eachNamed(c, targets, func(n harness.Node) error {
		if err := c.Start(ctx, n); err != nil {
			return err
		}
		m.killed[n.Name] = false
		return nil
	})
	for n, dead := range m.killed {
		if !dead {
			delete(m.killed, n)
		}
	}
	return KillResult{Nodes: targets}, err
}

// Heal removes every partition and restarts every killed node. It is safe
// to call at any time and more than once.
func (m *Nemesis) Heal(ctx context.Context, c harness.Cluster) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	netErr := healNetwork(ctx, c)
	if netErr == nil {
		m.grudge = nil
	}
	_, startErr := m.restart(ctx, c)
	return errors.Join(netErr, startErr)
}

func eachNamed(c harness.Cluster, names []string, f func(harness.Node) error) error {
	var nodes []harness.Node
	for _, n := range c.Nodes() {
		if slices.Contains(names, n.Name) {
			nodes = append(nodes, n)
		}
	}
	return eachNode(nodes, f)
}

func nodeNames(nodes []harness.Node) []string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return names
}
