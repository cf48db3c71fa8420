package fault

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness"
)

// Window is a span of a test during which one fault was in force, or a
// point in time for a kind drawn as Points and for a nemesis op faultline
// does not know, as the nemesis ops of a history tell it.
type Window struct {
	// Kind is the fault kind's name, or for an unknown nemesis op its f.
	Kind string
	// Op is the f of the op that began the window (for a point, the op).
	Op string
	// Start is the invocation time of the op that began the fault: the
	// earliest it can have taken effect.
	Start time.Duration
	// InForce is that op's completion: by then the fault is certainly in
	// full force.
	InForce time.Duration
	// End is the invocation of the op that ended it: until then the fault
	// is certainly in force. It is the end of the history when nothing
	// ended it.
	End time.Duration
	// Healed is that op's completion: by then the fault is certainly
	// undone.
	Healed time.Duration
	// ClosedBy is the f that ended it, "end of history", or for a point
	// its own f.
	ClosedBy string
	// Began is the op pair that began the window.
	Began harness.Pair
	// Label names the fault and what it hit, e.g. "partition n1,n2 |
	// n3,n4,n5", "kill n3" or "kill n2 (info: ...)".
	Label string
	// Point says the window is a point in time.
	Point bool
	// Reopened counts ops that began a fault of the same kind while this
	// one was in force. The schedule never draws one; a hand-written or
	// imported history may hold one.
	Reopened int
}

// Color is the window's shade, as #rrggbb: its kind's, its kind's stop
// colour for a point made by the Stop op, or grey for an op faultline
// does not know.
func (w Window) Color() string {
	k, ok := Lookup(w.Kind)
	switch {
	case !ok:
		return OtherColor
	case w.Point && w.Op == k.Stop && k.StopColor != "":
		return k.StopColor
	}
	return k.Color
}

// OtherColor shades what no kind describes.
const OtherColor = "#e3e3e3"

// Windows reads the fault windows of h from its nemesis ops, in the order
// they began. Every report and checker that shows or judges fault windows
// reads them here: the plots, the timeline, the progress line, the
// porcupine annotations and the availability checker.
func Windows(h harness.History) []Window {
	var out []Window
	open := map[string]int{} // kind -> index into out
	var last time.Duration
	if len(h) > 0 {
		last = h[len(h)-1].Time
	}
	closeAt := func(i int, p harness.Pair) {
		out[i].End, out[i].Healed, out[i].ClosedBy = p.Invoke.Time, completionTime(p, last), p.Invoke.F
	}
	for _, p := range h.Nemesis().Pairs() {
		f := p.Invoke.F
		k, edge := Of(f)
		if edge == NoEdge && p.Invoke.Process == harness.MonitorProcess {
			continue // the harness's own reading of the cluster (hashkv), no fault
		}
		switch {
		case edge == HealsAll:
			for kind, i := range open {
				closeAt(i, p)
				delete(open, kind)
			}
		case edge == NoEdge || k.Points:
			name := f
			if edge != NoEdge {
				name = k.Name
			}
			out = append(out, Window{Kind: name, Op: f, Start: p.Invoke.Time, InForce: completionTime(p, last),
				End: p.Invoke.Time, Healed: completionTime(p, last), ClosedBy: f, Began: p, Label: Label(f, p), Point: true})
		case edge == Opens:
			if i, inForce := open[k.Name]; inForce {
				out[i].Reopened++
				continue
			}
			open[k.Name] = len(out)
			out = append(out, Window{Kind: k.Name, Op: f, Start: p.Invoke.Time, InForce: completionTime(p, last),
				End: last, Healed: last, ClosedBy: "end of history", Began: p, Label: Label(k.Name, p)})
		case edge == Closes:
			if i, inForce := open[k.Name]; inForce {
				closeAt(i, p)
				delete(open, k.Name)
			}
		}
	}
	return out
}

func completionTime(p harness.Pair, last time.Duration) time.Duration {
	if p.Completion == nil {
		return max(last, p.Invoke.Time)
	}
	return p.Completion.Time
}

// String renders the window for a log line.
func (w Window) String() string {
	return fmt.Sprintf("%s %.3fs..%.3fs", w.Label, w.Start.Seconds(), w.Healed.Seconds())
}

// Legend is the name the window goes by in a plot's legend and rows: its
// kind, or for a point of a known kind the op (member-remove, member-add),
// which have colours of their own.
func (w Window) Legend() string {
	if w.Point && w.Op != "" {
		if _, edge := Of(w.Op); edge != NoEdge {
			return w.Op
		}
	}
	return w.Kind
}
