package watch

import (
	"math/rand"

	"github.com/faultline/faultline/harness"
)

// Op functions of the watch workload.
const (
	// Write puts a value to the key; its value is an int unique over the
	// run, and an ok completion carries a WriteValue.
	Write = "write"
	// Watch collects the events of the process's watch stream for a
	// while; it completes with a WatchValue.
	Watch = "watch"
	// FinalWatch, after the final heal, watches the key from the start
	// revision until it reaches the key's latest revision; it completes
	// with a WatchValue.
	FinalWatch = "final-watch"
)

// WriteValue is the value of an ok write: the value written and the
// store revision the put created.
type WriteValue struct {
	Value    int   `json:"value"`
	Revision int64 `json:"revision"`
}

// Event is one watch event as a watcher saw it.
type Event struct {
	Revision int64  `json:"revision"`
	Value    string `json:"value"`
	// Delete marks a delete event; the workload never deletes.
	Delete bool `json:"delete,omitempty"`
}

// WatchValue is the value of a completed watch or final watch.
type WatchValue struct {
	// Events are the events received, in stream order.
	Events []Event `json:"events"`
	// From is the revision the stream was (re)opened at by this op, or 0
	// if the op read an open stream.
	From int64 `json:"from,omitempty"`
	// Error is why the stream broke during the op, if it did; the next
	// op resumes after the last event seen.
	Error string `json:"error,omitempty"`
	// Target is the revision a final watch had to reach, and Complete
	// says whether it did.
	Target   int64 `json:"target,omitempty"`
	Complete bool  `json:"complete,omitempty"`
}

// Generator gives the watchers (processes 0..Watchers-1) watch ops and
// every other process writes of 0, 1, 2, ... in the order they are drawn.
// Watch ops never end info, so the watcher processes are never retired
// and keep their ids; a writer retired after an info write is succeeded
// by a process with a larger id, which writes too. It uses no randomness:
// the ops depend only on the order of calls, which the runner serializes.
type Generator struct {
	watchers int
	next     int
}

// NewGenerator returns a generator with the given number of watchers.
func NewGenerator(watchers int) *Generator { return &Generator{watchers: watchers} }

// Next returns process's next op.
func (g *Generator) Next(_ *rand.Rand, p harness.Process) (harness.Op, bool) {
	if int(p) < g.watchers {
		return harness.Op{F: Watch}, true
	}
	op := harness.Op{F: Write, Value: harness.MustValue(g.next)}
	g.next++
	return op, true
}

// FinalOps returns one final watch per node.
func FinalOps(nodes []harness.Node) []harness.Op {
	ops := make([]harness.Op, len(nodes))
	for i, n := range nodes {
		ops[i] = harness.Op{F: FinalWatch, Node: n.Name}
	}
	return ops
}
