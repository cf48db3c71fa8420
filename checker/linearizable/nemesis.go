package linearizable

import (
	"fmt"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/harness"
)

// window is a span of the test during which a fault was in force, as the
// nemesis ops of a history tell it.
type window struct {
	// Kind is the fault: "partition" for start-partition/stop-partition,
	// "kill" for kill/start, "pause" for pause/resume, or the f of a
	// nemesis op that opens no window (a point in time).
	Kind string
	// Start is the invocation time of the op that began the fault.
	Start int64
	// End is the completion time of the op that ended it (or the heal),
	// or the last time of the history if nothing ended it.
	End int64
	// Description is the fault's concrete effect: the completion value of
	// the op that began it (the groups, the nodes killed), or its error.
	Description string
}

// nemesisWindows reads the fault windows of h from its nemesis ops, in the
// order they began. A fault begun while one of its kind is already in force
// extends that window.
func nemesisWindows(h harness.History) []window {
	var windows []window
	open := map[string]int{} // kind -> index into windows
	var last int64
	for _, p := range h.Nemesis().Pairs() {
		inv := p.Invoke
		end := int64(inv.Time)
		if p.Completion != nil {
			end = int64(p.Completion.Time)
		}
		last = max(last, end)
		kind, opens, closes := harness.FaultEdge(inv.F)
		switch {
		case opens:
			if _, inForce := open[kind]; inForce {
				continue
			}
			open[kind] = len(windows)
			windows = append(windows, window{Kind: kind, Start: int64(inv.Time), End: -1, Description: describeFault(p)})
		case closes:
			if i, ok := open[kind]; ok {
				windows[i].End = end
				delete(open, kind)
			}
		case inv.F == "heal":
			for kind, i := range open {
				windows[i].End = end
				delete(open, kind)
			}
		default:
			windows = append(windows, window{Kind: inv.F, Start: int64(inv.Time), End: end, Description: describeFault(p)})
		}
	}
	if len(h) > 0 {
		last = max(last, int64(h[len(h)-1].Time))
	}
	for _, i := range open {
		windows[i].End = last
	}
	return windows
}

// describeFault renders what a nemesis op did: its completion value, else
// its invocation value, and any error.
func describeFault(p harness.Pair) string {
	value := p.Invoke.Value
	var status string
	if c := p.Completion; c != nil {
		if len(c.Value) > 0 {
			value = c.Value
		}
		if c.Type != harness.OK {
			status = string(c.Type)
			if c.Error != "" {
				status += ": " + c.Error
			}
		}
	} else {
		status = "never completed"
	}
	parts := []string{p.Invoke.F}
	if len(value) > 0 && string(value) != "null" {
		parts = append(parts, string(value))
	}
	if status != "" {
		parts = append(parts, "("+status+")")
	}
	return strings.Join(parts, " ")
}

// faultColors shades each kind of window; other kinds are grey.
var faultColors = map[string]string{
	"partition": "#f7d4d4",
	"kill":      "#d4dcf7",
	"pause":     "#f7ecd4",
}

// nemesisAnnotations renders the windows of h as porcupine annotations, one
// row (tag) per kind of fault.
func nemesisAnnotations(h harness.History) []porcupine.Annotation {
	var out []porcupine.Annotation
	for _, w := range nemesisWindows(h) {
		color, ok := faultColors[w.Kind]
		if !ok {
			color = "#e4e4e4"
		}
		out = append(out, porcupine.Annotation{
			Tag:             "nemesis " + w.Kind,
			Start:           w.Start,
			End:             w.End,
			Description:     w.Kind,
			Details:         fmt.Sprintf("%s, %.3fs to %.3fs", w.Description, seconds(w.Start), seconds(w.End)),
			BackgroundColor: color,
		})
	}
	return out
}

func seconds(ns int64) float64 { return float64(ns) / 1e9 }
