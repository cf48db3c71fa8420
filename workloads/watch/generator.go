package watch

import (
	"math/rand"
	"strconv"

	"github.com/faultline/faultline/harness"
)

// Generator gives the watchers (processes 0..Watchers-1) watch ops, one
// session after another, and every other process writes: puts of 0, 1,
// 2, ... in the order they are drawn, deletes and multi-key txns over
// Keys keys, and with CompactEvery a compaction every CompactEvery
// writes. Watch ops never end info, so the watcher processes are never
// retired and keep their ids; a writer retired after an info write is
// succeeded by a process with a larger id, which writes too. The ops
// depend only on the order of calls and the runner's seeded rand, which
// the runner serializes.
type Generator struct {
	watchers     int
	keys         int
	starts       []string
	compactEvery int

	next     int // the next value to put
	writes   int // write ops drawn
	sessions int // rotating sessions begun
	current  map[harness.Process]*session
}

// session is a watcher's current session and the windows it has left.
type session struct {
	spec WatchSpec
	left int
}

// Shares of the writers' ops: the rest are puts.
const (
	deleteShare = 0.15
	txnShare    = 0.30
	// txnDeleteShare is the share of a txn's mutations that delete.
	txnDeleteShare = 0.2
)

// NewGenerator returns a generator with the given number of watchers,
// keys (at least 1) and compaction cadence (0: none); its rotating
// sessions watch from starts (nil: every one of Starts).
func NewGenerator(watchers, keys, compactEvery int, starts []string) *Generator {
	return &Generator{watchers: watchers, keys: max(keys, 1), compactEvery: compactEvery, starts: starts, current: map[harness.Process]*session{}}
}

// Next returns process's next op.
func (g *Generator) Next(r *rand.Rand, p harness.Process) (harness.Op, bool) {
	if int(p) < g.watchers {
		return harness.Op{F: Watch, Value: harness.MustValue(g.spec(p))}, true
	}
	g.writes++
	if g.compactEvery > 0 && g.writes%g.compactEvery == 0 {
		return harness.Op{F: Compact}, true
	}
	switch x := r.Float64(); {
	case x < deleteShare:
		return harness.Op{F: Delete, Key: KeyName(r.Intn(g.keys))}, true
	case x < deleteShare+txnShare && g.keys > 1:
		return harness.Op{F: Txn, Value: harness.MustValue(g.txn(r))}, true
	}
	op := harness.Op{F: Put, Key: KeyName(r.Intn(g.keys)), Value: harness.MustValue(g.next)}
	g.next++
	return op, true
}

// txn draws two or three mutations on distinct keys.
func (g *Generator) txn(r *rand.Rand) []Mutation {
	n := min(2+r.Intn(2), g.keys)
	var ms []Mutation
	for _, k := range r.Perm(g.keys)[:n] {
		if r.Float64() < txnDeleteShare {
			ms = append(ms, Mutation{Type: TypeDelete, Key: KeyName(k)})
			continue
		}
		ms = append(ms, Mutation{Type: TypePut, Key: KeyName(k), Value: g.next})
		g.next++
	}
	return ms
}

// spec returns the spec of p's session for its next window, beginning a
// new session when the current one has used up its windows. Process 0
// runs one session for the whole run: the whole prefix from revision 1,
// as a classic long-lived watcher.
func (g *Generator) spec(p harness.Process) WatchSpec {
	s := g.current[p]
	if s == nil || (s.spec.Windows > 0 && s.left == 0) {
		if p == 0 {
			s = &session{spec: ClassicSpec(g.sessions)}
		} else {
			s = &session{spec: RotatingSpec(g.sessions, g.keys, g.starts)}
		}
		g.sessions++
		s.left = s.spec.Windows
		g.current[p] = s
	}
	s.left--
	return s.spec
}

// KeyName is the name of key i, relative to the workload's prefix.
func KeyName(i int) string { return "k" + strconv.Itoa(i) }

// FinalOps returns one final watch per node.
func FinalOps(nodes []harness.Node) []harness.Op {
	ops := make([]harness.Op, len(nodes))
	for i, n := range nodes {
		ops[i] = harness.Op{F: FinalWatch, Node: n.Name}
	}
	return ops
}
