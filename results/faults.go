package results

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// Fault is a span of the test during which one fault was in force, as the
// nemesis ops of a history tell it. The reports shade and label it.
type Fault struct {
	// Kind is the fault: "partition" (start-partition until
	// stop-partition or heal), "kill" (kill until start or heal), "pause"
	// (pause until resume or heal), "<x>" for start-<x> until stop-<x>, or
	// the f of a nemesis op that opens no window, which is then a point.
	Kind string
	// Start is the invocation time of the op that began the fault.
	Start time.Duration
	// End is the completion time of the op that ended it, or the end of
	// the history when nothing did.
	End time.Duration
	// Label names the fault and what it hit, e.g. "partition n1,n2 | n3,n4,n5"
	// or "kill n3": read from the completion value of the op that began it.
	Label string
}

// Faults reads the fault windows of h from its nemesis ops, in the order
// they began. A fault begun while one of its kind is in force extends it.
// The windows match those the linearizability checker annotates.
func Faults(h harness.History) []Fault {
	var faults []Fault
	open := map[string]int{}
	var last time.Duration
	if len(h) > 0 {
		last = h[len(h)-1].Time
	}
	for _, p := range h.Nemesis().Pairs() {
		inv := p.Invoke
		end := inv.Time
		if p.Completion != nil {
			end = p.Completion.Time
		}
		kind, opens, closes := harness.FaultEdge(inv.F)
		switch {
		case opens:
			if _, inForce := open[kind]; inForce {
				continue
			}
			open[kind] = len(faults)
			faults = append(faults, Fault{Kind: kind, Start: inv.Time, End: -1, Label: FaultLabel(kind, p)})
		case closes:
			if i, ok := open[kind]; ok {
				faults[i].End = end
				delete(open, kind)
			}
		case inv.F == "heal":
			for kind, i := range open {
				faults[i].End = end
				delete(open, kind)
			}
		default:
			faults = append(faults, Fault{Kind: inv.F, Start: inv.Time, End: end, Label: FaultLabel(inv.F, p)})
		}
	}
	for _, i := range open {
		faults[i].End = max(last, faults[i].Start)
	}
	return faults
}

// faultValue is the part of a nemesis completion value that names what a
// fault hit: the groups of a partition, the nodes of a kill.
type faultValue struct {
	Layout string     `json:"layout"`
	Groups [][]string `json:"groups"`
	Nodes  []string   `json:"nodes"`
	// Node is the one node a membership step removed or added.
	Node string `json:"node"`
}

// FaultLabel names a fault of kind begun by the nemesis op p, with the
// concrete nodes or groups its completion reports: "partition n1 | n2,n3",
// "kill n2", or "partition bridge" when the layout has no clean sides. A
// fault that may not have applied fully says so: "kill n2 (info: ...)".
func FaultLabel(kind string, p harness.Pair) string {
	value := p.Invoke.Value
	status := ""
	if c := p.Completion; c == nil {
		status = " (never completed)"
	} else {
		if len(c.Value) > 0 && string(c.Value) != "null" {
			value = c.Value
		}
		if c.Type != harness.OK {
			status = " (" + string(c.Type)
			if c.Error != "" {
				status += ": " + shorten(c.Error, 40)
			}
			status += ")"
		}
	}
	return strings.TrimSpace(kind+" "+describeTargets(value)) + status
}

// describeTargets renders a nemesis value as the nodes it names.
func describeTargets(value json.RawMessage) string {
	if len(value) == 0 || string(value) == "null" {
		return ""
	}
	var fv faultValue
	if err := json.Unmarshal(value, &fv); err == nil {
		switch {
		case len(fv.Groups) > 0:
			return joinGroups(fv.Groups)
		case len(fv.Nodes) > 0:
			return strings.Join(fv.Nodes, ",")
		case fv.Node != "":
			return fv.Node
		case fv.Layout != "":
			return fv.Layout
		}
	}
	var groups [][]string
	if err := json.Unmarshal(value, &groups); err == nil && len(groups) > 0 {
		return joinGroups(groups)
	}
	var nodes []string
	if err := json.Unmarshal(value, &nodes); err == nil {
		return strings.Join(nodes, ",")
	}
	var s string
	if err := json.Unmarshal(value, &s); err == nil {
		return s
	}
	return shorten(string(value), 40)
}

func joinGroups(groups [][]string) string {
	sides := make([]string, len(groups))
	for i, g := range groups {
		sides[i] = strings.Join(g, ",")
	}
	return strings.Join(sides, " | ")
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// String renders the fault for a log line.
func (f Fault) String() string {
	return fmt.Sprintf("%s %.3fs..%.3fs", f.Label, f.Start.Seconds(), f.End.Seconds())
}
