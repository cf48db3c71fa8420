package lock

import (
	"math/rand"

	"github.com/faultline/faultline/harness"
)

// Op functions of the lock workloads.
const (
	// Acquire locks the mutex; it completes ok once the process holds it,
	// with an AcquireValue.
	Acquire = "acquire"
	// Add adds an element to the guarded set while holding the lock: it
	// reads the set, pauses, and writes it back with the element. Its value
	// is the element, an int unique over the run.
	Add = "add"
	// Release unlocks the mutex.
	Release = "release"
	// FinalRead reads the guarded set after the final heal; it completes
	// with the elements as a JSON list of ints.
	FinalRead = "final-read"
)

// AcquireValue is the value of an ok acquire: the process's key under the
// lock prefix (one per session lease) and the store revision at which it
// was found to be the oldest.
type AcquireValue struct {
	Key      string `json:"key"`
	Revision int64  `json:"revision"`
}

// phase is where a process is in its acquire, add, release cycle.
type phase int

const (
	wantAcquire phase = iota
	wantAdd
	wantRelease
)

// Generator cycles every process through acquire, add, release. An
// acquire that fails is retried; an add, ok or not, is followed by a
// release; a release is followed by the next acquire. An op that ends info
// retires its process (the runner gives the thread a fresh one), whose
// successor starts again at acquire. Elements are 0, 1, 2, ... in the
// order adds are drawn. It uses no randomness: the ops depend only on the
// order of calls to Next and Observe, which the runner serializes.
type Generator struct {
	phases map[harness.Process]phase
	next   int
}

// NewGenerator returns a generator with every process about to acquire.
func NewGenerator() *Generator { return &Generator{phases: map[harness.Process]phase{}} }

// Next returns process's next op.
func (g *Generator) Next(_ *rand.Rand, p harness.Process) (harness.Op, bool) {
	switch g.phases[p] {
	case wantAdd:
		op := harness.Op{F: Add, Value: harness.MustValue(g.next)}
		g.next++
		return op, true
	case wantRelease:
		return harness.Op{F: Release}, true
	}
	return harness.Op{F: Acquire}, true
}

// Observe moves the completing process to its next phase.
func (g *Generator) Observe(done harness.Op) {
	if done.Type == harness.Info {
		delete(g.phases, done.Process)
		return
	}
	switch done.F {
	case Acquire:
		if done.Type == harness.OK {
			g.phases[done.Process] = wantAdd
		}
	case Add:
		g.phases[done.Process] = wantRelease
	case Release:
		g.phases[done.Process] = wantAcquire
	}
}
