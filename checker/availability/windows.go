package availability

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// Kinds of fault window the rules apply to.
const (
	// KindPartition is a network partition: start-partition to
	// stop-partition or the final heal.
	KindPartition = "partition"
	// KindKill is a set of killed DB processes: kill to start or heal.
	KindKill = "kill"
	// KindPause is a set of paused DB processes: pause to resume or heal.
	KindPause = "pause"
	// KindCrash is a set of crashed machines: start-crash to stop-crash.
	KindCrash = "crash"
)

// judged reports whether the rules apply to windows of kind: those whose
// sides are known, a partition's groups or the nodes a process fault
// stopped. Other faults (loss, bandwidth, delay, membership changes)
// still open windows, so that a fault that overlaps them is not judged as
// if it were alone.
func judged(kind string) bool {
	k, ok := fault.Lookup(kind)
	return ok && (k.Effect == fault.Cut || k.Effect == fault.Down)
}

// window is one fault window as the nemesis ops tell it, before any client
// op is looked at.
type window struct {
	kind string
	// start is the invocation of the op that began the fault: the earliest
	// it can have taken effect. The election gap is measured from here.
	start time.Duration
	// inForce is that op's completion: by then the fault is certainly in
	// full force. The minority rule and the rates count from here.
	inForce time.Duration
	// end is the invocation of the op that ended the fault (or the last
	// time of the history): until then the fault is certainly in force.
	end time.Duration
	// healed is that op's completion: by then the fault is certainly
	// undone. Recovery is measured from here.
	healed time.Duration
	// closedBy is the f that ended the fault, or "end of history".
	closedBy string
	// layout is the partition's layout name, if it recorded one.
	layout string
	// groups are a partition's clean sides; nil for layouts without them
	// (bridge, majorities-ring).
	groups [][]string
	// cut are the nodes a partition cut off from at least one other node
	// (the nodes with a grudge), or the nodes a kill or pause hit.
	cut []string
	// unusable says why the window cannot be judged (the fault failed or
	// was partly applied, its value is unreadable); empty if it can.
	unusable string
}

// partitionValue is the completion value of start-partition, as package
// nemesis records it. A bare list of groups is accepted too.
type partitionValue struct {
	Layout string              `json:"layout"`
	Groups [][]string          `json:"groups"`
	Grudge map[string][]string `json:"grudge"`
}

// nodesValue is the completion value of kill, pause and start-crash.
type nodesValue struct {
	Nodes []string `json:"nodes"`
}

// faults reads the fault windows of h, in the order they began.
func faults(h harness.History) []window {
	var out []window
	open := map[string]int{} // kind -> index into out
	var last time.Duration
	if len(h) > 0 {
		last = h[len(h)-1].Time
	}
	closeAt := func(i int, p harness.Pair) {
		out[i].end, out[i].healed, out[i].closedBy = p.Invoke.Time, completionTime(p, last), p.Invoke.F
	}
	for _, p := range h.Nemesis().Pairs() {
		f := p.Invoke.F
		k, edge := fault.Of(f)
		kind, opens, closes := k.Name, edge == fault.Opens, edge == fault.Closes
		if opens {
			if i, inForce := open[kind]; inForce {
				// A second fault of a kind already in force: the runner
				// never schedules one, so mark both rather than guess.
				out[i].unusable = "another " + kind + " began before it ended"
				closeAt(i, p)
			}
			open[kind] = len(out)
			out = append(out, newFault(kind, p, last))
			continue
		}
		if closes {
			if i, inForce := open[kind]; inForce {
				closeAt(i, p)
				delete(open, kind)
			}
			continue
		}
		if edge == fault.HealsAll {
			for kind, i := range open {
				closeAt(i, p)
				delete(open, kind)
			}
		}
	}
	for _, i := range open {
		out[i].end, out[i].healed, out[i].closedBy = last, last, "end of history"
	}
	markOverlaps(out)
	return out
}

// newFault builds a window from the op that began it; its end is set when
// the op that ends it is seen.
func newFault(kind string, p harness.Pair, last time.Duration) window {
	w := window{kind: kind, start: p.Invoke.Time, inForce: completionTime(p, last)}
	c := p.Completion
	switch {
	case c == nil:
		w.unusable = "the fault never completed"
		return w
	case c.Type != harness.OK:
		w.unusable = fmt.Sprintf("the fault may be partly applied (%s: %s)", c.Type, c.Error)
		return w
	}
	if !judged(kind) {
		w.unusable = fmt.Sprintf("a %s fault is not judged", kind)
		return w
	}
	var err error
	if kind == KindPartition {
		w.layout, w.groups, w.cut, err = decodePartition(c.Value)
	} else {
		var v nodesValue
		if err = json.Unmarshal(c.Value, &v); err == nil && len(v.Nodes) == 0 {
			err = fmt.Errorf("no nodes in %s", c.Value)
		}
		w.cut = sorted(v.Nodes)
	}
	if err != nil {
		w.unusable = fmt.Sprintf("unreadable %s value: %v", p.Invoke.F, err)
	}
	return w
}

// decodePartition reads a partition's layout, clean sides and cut nodes.
func decodePartition(raw json.RawMessage) (layout string, groups [][]string, cut []string, err error) {
	var v partitionValue
	if err := json.Unmarshal(raw, &v); err != nil {
		if err2 := json.Unmarshal(raw, &v.Groups); err2 != nil {
			return "", nil, nil, err
		}
	}
	for node, drops := range v.Grudge {
		if len(drops) > 0 {
			cut = append(cut, node)
		}
	}
	if len(v.Grudge) == 0 && len(v.Groups) > 1 {
		for _, g := range v.Groups {
			cut = append(cut, g...)
		}
	}
	if len(v.Groups) < 2 && len(cut) == 0 {
		return "", nil, nil, fmt.Errorf("neither groups nor a grudge in %s", raw)
	}
	if len(v.Groups) < 2 {
		v.Groups = nil
	}
	return v.Layout, v.Groups, sorted(cut), nil
}

func completionTime(p harness.Pair, last time.Duration) time.Duration {
	if p.Completion == nil {
		return last
	}
	return p.Completion.Time
}

// markOverlaps marks windows that overlap another: with two faults in
// force at once, neither one's sides say who could reach a quorum.
func markOverlaps(ws []window) {
	for i := range ws {
		for j := range ws {
			if i != j && ws[i].start < ws[j].healed && ws[j].start < ws[i].healed && ws[i].unusable == "" {
				ws[i].unusable = fmt.Sprintf("it overlaps a %s window", ws[j].kind)
			}
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
