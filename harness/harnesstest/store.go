package harnesstest

import (
	"context"
	"math/rand"
	"sync"

	"github.com/faultline/faultline/harness"
)

// Store is a linearizable in-memory store of integer registers; its zero
// value is empty and ready. Every
// InfoEvery-th write returns info after taking effect, as a timed-out
// write might; a Bug, when set, rewrites a completion, to script a store
// that breaks a promise.
type Store struct {
	mu     sync.Mutex
	values map[string]int
	writes int
	// InfoEvery makes every n-th write an info completion; 0 never.
	InfoEvery int
	// Bug, if set, is applied to every completion before it is returned.
	Bug func(op, done harness.Op) harness.Op
}

// NewStore returns an empty store: every register reads 0.
func NewStore() *Store { return &Store{values: map[string]int{}} }

// Client returns a client of s; all of them share its state.
func (s *Store) Client() harness.Client { return Client{store: s} }

// Client performs read and write ops on a Store. It implements
// harness.Client.
type Client struct{ store *Store }

// Invoke performs op: a write sets the register, a read returns it, a
// probe is ok; any other f fails.
func (c Client) Invoke(_ context.Context, op harness.Op) harness.Op {
	s := c.store
	s.mu.Lock()
	defer s.mu.Unlock()
	done := c.perform(op)
	if s.Bug != nil {
		done = s.Bug(op, done)
	}
	return done
}

func (c Client) perform(op harness.Op) harness.Op {
	s := c.store
	if s.values == nil {
		s.values = map[string]int{}
	}
	switch op.F {
	case "write":
		var v int
		if err := op.DecodeValue(&v); err != nil {
			return op.Completion(harness.Fail)
		}
		s.values[op.Key] = v
		s.writes++
		if s.InfoEvery > 0 && s.writes%s.InfoEvery == 0 {
			done := op.Completion(harness.Info)
			done.Error = "timeout"
			return done
		}
		return op.Completion(harness.OK)
	case "read":
		done := op.Completion(harness.OK)
		done.Value = harness.MustValue(s.values[op.Key])
		return done
	case harness.ProbeF:
		return op.Completion(harness.OK)
	}
	return op.Completion(harness.Fail)
}

// Close does nothing.
func (Client) Close() error { return nil }

// Generator alternates writes of random values 0..4 and reads of one key,
// "k". It implements harness.Generator.
type Generator struct{ n int }

// Next returns the next op.
func (g *Generator) Next(r *rand.Rand, _ harness.Process) (harness.Op, bool) {
	g.n++
	if g.n%2 == 0 {
		return harness.Op{F: "read", Key: "k"}, true
	}
	return harness.Op{F: "write", Key: "k", Value: harness.MustValue(r.Intn(5))}, true
}

// Nemesis records the ops it is asked to perform and completes each ok;
// Panic, when set, makes it panic on that op. It implements
// harness.Nemesis.
type Nemesis struct {
	mu     sync.Mutex
	ops    []string
	healed int
	// Panic names an op on which Invoke panics, as a buggy nemesis might.
	Panic string
}

// Invoke records op and completes it ok.
func (n *Nemesis) Invoke(_ context.Context, _ harness.Cluster, op harness.Op) harness.Op {
	n.mu.Lock()
	defer n.mu.Unlock()
	if op.F == n.Panic && n.Panic != "" {
		panic("harnesstest: nemesis told to panic on " + op.F)
	}
	n.ops = append(n.ops, op.F)
	return op.Completion(harness.OK)
}

// Heal counts the heal.
func (n *Nemesis) Heal(context.Context, harness.Cluster) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.healed++
	return nil
}

// Ops lists the ops performed, in order.
func (n *Nemesis) Ops() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.ops...)
}

// Heals counts the heals.
func (n *Nemesis) Heals() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.healed
}
