package set

import (
	"math/rand"

	"github.com/faultline/faultline/harness"
)

// Op functions of the set workload.
const (
	// Add adds one element; its value is the element, an int unique over
	// the run.
	Add = "add"
	// FinalRead reads every element on one node after the final heal; it
	// completes with the elements as a JSON list of ints.
	FinalRead = "final-read"
)

// Generator hands out adds of the elements 0, 1, 2, ... in the order
// processes ask, so that every element is attempted exactly once and a
// present element is traced to exactly one add. It uses no randomness: the
// ops drawn depend only on the order of calls, which the runner
// serializes. It never runs out; the time limit ends the workload.
type Generator struct {
	next int
}

// NewGenerator returns a generator whose first element is 0.
func NewGenerator() *Generator { return &Generator{} }

// Next returns an add of the next element.
func (g *Generator) Next(_ *rand.Rand, _ harness.Process) (harness.Op, bool) {
	op := harness.Op{F: Add, Value: harness.MustValue(g.next)}
	g.next++
	return op, true
}

// FinalOps returns one final read per node, in node order.
func FinalOps(nodes []harness.Node) []harness.Op {
	ops := make([]harness.Op, len(nodes))
	for i, n := range nodes {
		ops[i] = harness.Op{F: FinalRead, Node: n.Name}
	}
	return ops
}
