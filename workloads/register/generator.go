package register

import (
	"fmt"
	"math/rand"
	"strconv"

	"github.com/faultline/faultline/harness"
)

// Generator defaults.
const (
	// DefaultOpsPerKey is how many ops a key receives before it is
	// retired. It bounds each key's history, and so porcupine's cost,
	// which grows steeply with the number of ops of unknown outcome
	// concurrent on one key.
	DefaultOpsPerKey = 200
	// DefaultProcessesPerKey is how many live processes share a key. Two
	// or more are needed for concurrent ops on one key, which is what a
	// linearizability check is about; more make each check costlier.
	DefaultProcessesPerKey = 2
)

// Value ranges: small, so that reads and cas often meet the value written
// and concurrent writes often collide.
const valueRange = 5

// GeneratorOptions configure a Generator. The zero value means the defaults.
type GeneratorOptions struct {
	// OpsPerKey is how many invocations a key receives before a fresh key
	// takes its place. Zero means DefaultOpsPerKey.
	OpsPerKey int
	// ProcessesPerKey is how many live processes share a key. Zero means
	// DefaultProcessesPerKey.
	ProcessesPerKey int
}

func (o GeneratorOptions) withDefaults() (GeneratorOptions, error) {
	if o.OpsPerKey < 0 {
		return o, fmt.Errorf("register: ops per key must not be negative, got %d", o.OpsPerKey)
	}
	if o.ProcessesPerKey < 0 {
		return o, fmt.Errorf("register: processes per key must not be negative, got %d", o.ProcessesPerKey)
	}
	if o.OpsPerKey == 0 {
		o.OpsPerKey = DefaultOpsPerKey
	}
	if o.ProcessesPerKey == 0 {
		o.ProcessesPerKey = DefaultProcessesPerKey
	}
	return o, nil
}

// Generator produces the register's ops over independent keys, as Jepsen's
// independent/concurrent-generator does: the live processes are divided
// into groups of ProcessesPerKey, each group works on one key, and once a
// key has received OpsPerKey invocations it is retired and the group moves
// on to a fresh key. Keys are named r0, r1, ... in the order they are
// opened. With concurrency C there are ceil(C / ProcessesPerKey) keys in
// flight at once: with the default of two per key, max(1, C/2) rounded up.
//
// A process joins the first group with room when it first asks for an op;
// it leaves its group when one of its ops completes with info, since the
// runner then retires it and a fresh process takes over the thread, which
// joins the group with room, normally the one just left.
//
// Each op is a read (1/2), a write of a value in 0..4 (1/4) or a cas from
// old to new, both in 0..4 (1/4). Reads get the largest share because only
// reads observe the register: a stale read or a lost write shows nowhere
// else. Cas both observes and writes, and ties writers into one order.
// Values: a write carries its int, a cas the pair [old, new]; a read
// carries none, and its completion the int read or null.
//
// The ops drawn are a function of the seed of the rand the runner passes and
// of the order of calls to Next and Observe. A Generator is not safe for
// concurrent use; the runner serializes it.
type Generator struct {
	opts    GeneratorOptions
	groups  []*group
	groupOf map[harness.Process]*group
	nextKey int
}

// group is the processes working on one key.
type group struct {
	key    int
	issued int
	live   int
}

// NewGenerator returns a generator with no key opened yet.
func NewGenerator(opts GeneratorOptions) (*Generator, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return newGenerator(opts), nil
}

// newGenerator returns a generator for options already validated.
func newGenerator(opts GeneratorOptions) *Generator {
	return &Generator{opts: opts, groupOf: map[harness.Process]*group{}}
}

// Next returns the next op for process. It never runs out: the runner's
// time limit ends the workload.
func (g *Generator) Next(r *rand.Rand, process harness.Process) (harness.Op, bool) {
	gr := g.join(process)
	if gr.issued >= g.opts.OpsPerKey {
		gr.key, gr.issued = g.openKey(), 0
	}
	gr.issued++
	op := harness.Op{Key: Key(gr.key)}
	switch n := r.Intn(4); {
	case n < 2:
		op.F = Read
	case n == 2:
		op.F = Write
		op.Value = harness.MustValue(r.Intn(valueRange))
	default:
		op.F = CAS
		op.Value = harness.MustValue(Swap{r.Intn(valueRange), r.Intn(valueRange)})
	}
	return op, true
}

// Observe removes a process from its group when an op of it completes with
// info: the runner retires such a process.
func (g *Generator) Observe(completion harness.Op) {
	if completion.Type != harness.Info {
		return
	}
	if gr, ok := g.groupOf[completion.Process]; ok {
		gr.live--
		delete(g.groupOf, completion.Process)
	}
}

// join returns process's group, placing a new process in the first group
// with room, or in a new group on a fresh key.
func (g *Generator) join(process harness.Process) *group {
	if gr, ok := g.groupOf[process]; ok {
		return gr
	}
	var gr *group
	for _, candidate := range g.groups {
		if candidate.live < g.opts.ProcessesPerKey {
			gr = candidate
			break
		}
	}
	if gr == nil {
		gr = &group{key: g.openKey()}
		g.groups = append(g.groups, gr)
	}
	gr.live++
	g.groupOf[process] = gr
	return gr
}

func (g *Generator) openKey() int {
	k := g.nextKey
	g.nextKey++
	return k
}

// Key names the k-th key the generator opens: "r<k>".
func Key(k int) string { return "r" + strconv.Itoa(k) }
