package availability

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// sec turns seconds into a test time.
func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// builder assembles a history from whole ops, in any order; history()
// sorts the records by time and numbers them.
type builder struct {
	t   *testing.T
	ops []harness.Op
	// nextProcess hands out process ids to streams.
	nextProcess int
}

func newBuilder(t *testing.T) *builder { return &builder{t: t} }

// op adds one client op on node, invoked at inv and completed with typ at
// done; typ "" leaves it unfinished.
func (b *builder) op(p int, node, f string, inv, done float64, typ harness.Type) {
	b.ops = append(b.ops, harness.Op{Process: harness.Process(p), Type: harness.Invoke, F: f, Node: node, Time: sec(inv)})
	if typ != "" {
		b.ops = append(b.ops, harness.Op{Process: harness.Process(p), Type: typ, F: f, Node: node, Time: sec(done)})
	}
}

// nemesis adds a nemesis op invoked at inv and completed ok at done with
// value (nil for none).
func (b *builder) nemesis(f string, inv, done float64, value any) {
	b.nemesisTyped(f, inv, done, value, harness.OK)
}

func (b *builder) nemesisTyped(f string, inv, done float64, value any, typ harness.Type) {
	b.ops = append(b.ops, harness.Op{Process: harness.NemesisProcess, Type: harness.Invoke, F: f, Time: sec(inv)})
	c := harness.Op{Process: harness.NemesisProcess, Type: typ, F: f, Time: sec(done)}
	if value != nil {
		c.Value = harness.MustValue(value)
	}
	b.ops = append(b.ops, c)
}

// partition records a clean partition from start to stop; each nemesis op
// takes 0.2 s.
func (b *builder) partition(layout string, start, stop float64, groups ...[]string) {
	grudge := map[string][]string{}
	for i, g := range groups {
		for _, n := range g {
			for j, other := range groups {
				if i != j {
					grudge[n] = append(grudge[n], other...)
				}
			}
		}
	}
	b.nemesis("start-partition", start, start+0.2, map[string]any{"layout": layout, "groups": groups, "grudge": grudge})
	b.nemesis("stop-partition", stop, stop+0.2, nil)
}

// serveFunc says how a node answers an op of f invoked at t: the outcome
// and how long it takes.
type serveFunc func(t float64, f string) (harness.Type, float64)

// healthy answers everything ok in 20 ms.
func healthy(float64, string) (harness.Type, float64) { return harness.OK, 0.02 }

// timeout answers nothing: reads fail and writes are info after 2 s.
func timeout(_ float64, f string) (harness.Type, float64) {
	if f == "read" {
		return harness.Fail, 2
	}
	return harness.Info, 2
}

// unless answers like bad during [from, to) and like good otherwise.
func unless(good, bad serveFunc, from, to float64) serveFunc {
	return func(t float64, f string) (harness.Type, float64) {
		if t >= from && t < to {
			return bad(t, f)
		}
		return good(t, f)
	}
}

// stream adds one client thread on node from from to to: it cycles
// through read, write and cas, each invoked 30 ms after the previous one
// completed, answered as serve says. An info retires the process.
func (b *builder) stream(node string, from, to float64, serve serveFunc) {
	fs := []string{"read", "write", "cas"}
	p := b.nextProcess
	b.nextProcess += 1000
	for i, t := 0, from; t < to; i++ {
		f := fs[i%len(fs)]
		typ, took := serve(t, f)
		b.op(p, node, f, t, t+took, typ)
		if typ == harness.Info {
			p++
		}
		t += took + 0.03
	}
}

// everywhere adds one stream on each node, answered as serveOf says.
func (b *builder) everywhere(nodes []string, from, to float64, serveOf func(node string) serveFunc) {
	for _, n := range nodes {
		b.stream(n, from, to, serveOf(n))
	}
}

func (b *builder) history() harness.History {
	h := append(harness.History(nil), b.ops...)
	sort.SliceStable(h, func(i, j int) bool { return h[i].Time < h[j].Time })
	for i := range h {
		h[i].Index = i
	}
	require.NoError(b.t, h.Validate(), "the builder made a malformed history")
	return h
}
