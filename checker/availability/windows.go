package availability

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// Kinds of fault window the summary names.
const (
	KindPartition = "partition"
	KindKill      = "kill"
	KindPause     = "pause"
	KindCrash     = "crash"
)

// Window is one fault's span, as the nemesis ops tell it, with the
// figures of its first segment and the verdict of all the segments it
// spans: a fault that overlaps another is judged through the states they
// make together.
type Window struct {
	// Number counts the windows from 1, in the order they began.
	Number int `json:"number"`
	// Kind is the fault kind (partition, kill, ...); Label names what it
	// hit ("partition n1,n5 | n2,n3,n4"); Layout is a partition's layout.
	Kind   string `json:"kind"`
	Label  string `json:"label"`
	Layout string `json:"layout,omitempty"`
	// Leader is the node that led when the fault began, as the nemesis
	// recorded it; empty when unknown.
	Leader string `json:"leader,omitempty"`
	// Cut are the nodes the fault hit: a kill's, pause's or crash's
	// nodes, the nodes a partition cut off from at least one other.
	Cut []string `json:"cut,omitempty"`
	// CutOff are the nodes that could reach no quorum during the window,
	// whose recovery is measured.
	CutOff []string `json:"cut_off,omitempty"`
	// StartS and InForceS are when the fault began and when it was
	// certainly in force (the invocation and completion of its op); EndS
	// and HealedS the same for the op that ended it.
	StartS   float64 `json:"start_s"`
	InForceS float64 `json:"in_force_s"`
	EndS     float64 `json:"end_s"`
	HealedS  float64 `json:"healed_s"`
	// ClosedBy is the f that ended the fault, or "end of history".
	ClosedBy string `json:"closed_by"`
	// Segments are the numbers of the segments it spans.
	Segments []int `json:"segments"`
	// Sides are the sides of its first segment, with their figures.
	Sides []Side `json:"sides,omitempty"`
	// PerNode are the figures of the clients pinned to each node, in its
	// first segment.
	PerNode []NodeFigures `json:"per_node"`
	// Failover are the figures of the clients given every endpoint, in
	// its first segment.
	Failover *Figures `json:"failover,omitempty"`
	// Recovery is the recovery of each node that could not serve.
	Recovery []Recovery `json:"recovery,omitempty"`
	// Expectation states what a CP store must do in this window.
	Expectation string `json:"expectation"`
	// Judged says whether every segment it spans was judged; NotJudged
	// says why not.
	Judged    bool   `json:"judged"`
	NotJudged string `json:"not_judged,omitempty"`
	// Met says whether the expectation was met; nil when not judged.
	Met *bool `json:"met,omitempty"`
}

// faultSpan is a fault window as the checker reads it.
type faultSpan struct {
	fault.Window
	leader string
	layout string
}

// faultSpans reads the fault windows of h: those of fault.Windows, with a
// membership change's removal and re-addition of one node paired into a
// window of its own (the reports show them as points).
func faultSpans(h harness.History) []faultSpan {
	var out []faultSpan
	removed := map[string]int{}
	for _, w := range fault.Windows(h) {
		k, known := fault.Lookup(w.Kind)
		if w.Point && known && k.Effect == fault.Removed {
			node := memberNode(w.Began)
			if w.Op == k.Start {
				removed[node] = len(out)
				out = append(out, faultSpan{Window: w})
				out[len(out)-1].ClosedBy, out[len(out)-1].End, out[len(out)-1].Healed = "end of history", lastTime(h), lastTime(h)
			} else if i, ok := removed[node]; ok {
				out[i].End, out[i].Healed, out[i].ClosedBy = w.Start, w.Healed, w.Op
				delete(removed, node)
			}
			continue
		}
		if w.Point {
			continue
		}
		fs := faultSpan{Window: w}
		fs.leader, fs.layout = leaderAndLayout(w.Began)
		out = append(out, fs)
	}
	// A heal ends the member windows still open, as it adds the nodes back.
	for _, p := range h.Nemesis().Pairs() {
		if p.Invoke.F != fault.Heal {
			continue
		}
		for node, i := range removed {
			if out[i].Start < p.Invoke.Time {
				out[i].End, out[i].Healed, out[i].ClosedBy = p.Invoke.Time, completion(p, lastTime(h)), fault.Heal
				delete(removed, node)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b faultSpan) int { return int(a.Start - b.Start) })
	return out
}

func lastTime(h harness.History) time.Duration {
	if len(h) == 0 {
		return 0
	}
	return h[len(h)-1].Time
}

func completion(p harness.Pair, last time.Duration) time.Duration {
	if p.Completion == nil {
		return last
	}
	return p.Completion.Time
}

// memberNode reads the node of a membership step.
func memberNode(p harness.Pair) string {
	var v struct {
		Node string `json:"node"`
	}
	raw := p.Invoke.Value
	if p.Completion != nil && len(p.Completion.Value) > 0 {
		raw = p.Completion.Value
	}
	_ = json.Unmarshal(raw, &v)
	return v.Node
}

// leaderAndLayout reads what a fault op recorded of the leader when it
// began and of its layout.
func leaderAndLayout(p harness.Pair) (string, string) {
	var v struct {
		Leader string `json:"leader"`
		Layout string `json:"layout"`
	}
	for _, raw := range []json.RawMessage{p.Invoke.Value, completionValue(p)} {
		if len(raw) > 0 {
			_ = json.Unmarshal(raw, &v)
		}
	}
	return v.Leader, v.Layout
}

func completionValue(p harness.Pair) json.RawMessage {
	if p.Completion == nil {
		return nil
	}
	return p.Completion.Value
}

// judgeWindow reports fault window w through the segments it spans.
func (m *model) judgeWindow(number int, w faultSpan, segs []Segment, segSpans []span, vs []violation, last time.Duration) Window {
	out := Window{
		Number: number, Kind: w.Kind, Label: w.Label, Layout: w.layout, Leader: w.leader,
		StartS: roundSeconds(w.Start), InForceS: roundSeconds(w.InForce),
		EndS: roundSeconds(w.End), HealedS: roundSeconds(w.Healed), ClosedBy: w.ClosedBy, Segments: []int{},
	}
	var notJudged, expectations []string
	cut := map[string]bool{}
	for i, s := range segs {
		sp := segSpans[i]
		if sp.to <= w.InForce || sp.from >= w.End {
			continue
		}
		out.Segments = append(out.Segments, s.Number)
		if len(out.Segments) == 1 {
			out.Sides, out.PerNode, out.Failover = s.Sides, s.PerNode, s.Failover
		}
		if !s.Judged {
			notJudged = append(notJudged, s.NotJudged)
		}
		if !slices.Contains(expectations, s.Expectation) {
			expectations = append(expectations, s.Expectation)
		}
		for _, side := range s.Sides {
			if side.Role == RoleMinority || side.Role == RoleDown {
				for _, n := range side.Nodes {
					cut[n] = true
				}
			}
		}
	}
	for n := range cut {
		out.CutOff = append(out.CutOff, n)
	}
	slices.Sort(out.CutOff)
	out.Cut = hitNodes(w.Began)
	if len(out.Segments) == 0 {
		out.NotJudged = "it held no state long enough to judge (its op was undone before it completed)"
		out.Expectation = "not judged: " + out.NotJudged
		return out
	}
	out.Expectation = strings.Join(expectations, "; then ")
	out.Recovery = m.recoveries(out.CutOff, w.End, w.Healed, last)
	if len(notJudged) > 0 {
		out.NotJudged = strings.Join(notJudged, "; ")
		out.Expectation = "not judged: " + out.NotJudged
		return out
	}
	out.Judged = true
	met := true
	for _, v := range vs {
		if v.at >= w.InForce && v.at < w.End {
			met = false
		}
	}
	out.Met = &met
	return out
}

// hitNodes reads the nodes a fault op says it hit: its nodes, or the
// nodes of a partition's grudge that drop someone.
func hitNodes(p harness.Pair) []string {
	var v struct {
		Nodes  []string            `json:"nodes"`
		Node   string              `json:"node"`
		Grudge map[string][]string `json:"grudge"`
	}
	if raw := completionValue(p); len(raw) > 0 {
		_ = json.Unmarshal(raw, &v)
	}
	out := slices.Clone(v.Nodes)
	if v.Node != "" {
		out = append(out, v.Node)
	}
	for n, drops := range v.Grudge {
		if len(drops) > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
