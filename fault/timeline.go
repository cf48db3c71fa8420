package fault

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// State is what the faults in force leave of the cluster: which nodes are
// down and why, which are no members, who drops whose packets, which are
// slowed. Its zero value is a healthy cluster.
type State struct {
	// Down maps each node whose DB process cannot serve to why: kill,
	// pause, crash, exit (it exited by itself) or removed.
	Down map[string]string
	// Removed holds the nodes taken out of the raft group.
	Removed map[string]bool
	// Grudge maps each node to the nodes whose packets it drops.
	Grudge map[string][]string
	// Degraded maps each node whose packets are lost or slowed to the kind.
	Degraded map[string]string
	// Unknown says why the state cannot be known (a fault op that may
	// have been applied in part); empty when it is known.
	Unknown string
}

// Segment is a span of a test during which the state of the cluster was
// constant and known to be: from the completion of one fault op to the
// invocation of the next.
type Segment struct {
	// From and To bound the segment, [From, To).
	From, To time.Duration
	// State is the cluster's state throughout.
	State State
	// Began is the op whose completion began the segment; its Invoke.F is
	// empty for the first segment.
	Began harness.Pair
}

// Reaches reports whether a and b exchange packets: neither drops the
// other's. Raft needs both directions.
func (s State) Reaches(a, b string) bool {
	return a == b || (!slices.Contains(s.Grudge[a], b) && !slices.Contains(s.Grudge[b], a))
}

// Up lists the members of nodes whose DB process may serve, in order.
func (s State) Up(nodes []string) []string {
	var up []string
	for _, n := range nodes {
		if s.Down[n] == "" && !s.Removed[n] {
			up = append(up, n)
		}
	}
	return up
}

// Members lists the raft members among nodes.
func (s State) Members(nodes []string) []string {
	var out []string
	for _, n := range nodes {
		if !s.Removed[n] {
			out = append(out, n)
		}
	}
	return out
}

// Quorum is the smallest majority of the raft members among nodes.
func (s State) Quorum(nodes []string) int { return len(s.Members(nodes))/2 + 1 }

// MayServe reports whether node n may answer a linearizable op: it is up
// and reaches a node (itself, perhaps) that reaches a quorum of up
// members. A node for which no such leader exists must refuse.
func (s State) MayServe(n string, nodes []string) bool {
	up := s.Up(nodes)
	if !slices.Contains(up, n) {
		return false
	}
	q := s.Quorum(nodes)
	for _, leader := range up {
		if !s.Reaches(n, leader) {
			continue
		}
		reached := 0
		for _, x := range up {
			if s.Reaches(leader, x) {
				reached++
			}
		}
		if reached >= q {
			return true
		}
	}
	return false
}

// Sides are the groups of up members that reach each other, when every
// group is a clique (clean is true): visibility is then transitive and a
// group either holds a quorum or does not. With a bridge or a ring it is
// not (clean is false), and only MayServe says anything.
func (s State) Sides(nodes []string) (sides [][]string, clean bool) {
	up := s.Up(nodes)
	seen := map[string]bool{}
	clean = true
	for _, n := range up {
		if seen[n] {
			continue
		}
		group := []string{n}
		seen[n] = true
		for i := 0; i < len(group); i++ {
			for _, x := range up {
				if !seen[x] && s.Reaches(group[i], x) {
					seen[x] = true
					group = append(group, x)
				}
			}
		}
		sort.Strings(group)
		for _, a := range group {
			for _, b := range group {
				if !s.Reaches(a, b) {
					clean = false
				}
			}
		}
		sides = append(sides, group)
	}
	return sides, clean
}

// Describe renders the state for a person: "n1,n5 | n2,n3,n4; n4 killed",
// "healthy", or why it is unknown.
func (s State) Describe(nodes []string) string {
	if s.Unknown != "" {
		return "unknown (" + s.Unknown + ")"
	}
	var parts []string
	if len(s.Grudge) > 0 {
		sides, clean := s.Sides(nodes)
		// The smaller sides first, as a layout names its minority first.
		slices.SortStableFunc(sides, func(a, b []string) int { return len(a) - len(b) })
		if clean {
			parts = append(parts, JoinGroups(sides))
		} else {
			parts = append(parts, "partial partition")
		}
	}
	for _, why := range []string{"kill", "pause", "crash", "exit", "fired", "removed"} {
		var hit []string
		for _, n := range slices.Sorted(maps.Keys(s.Down)) {
			if s.Down[n] == why {
				hit = append(hit, n)
			}
		}
		if len(hit) > 0 {
			verb := map[string]string{"kill": "killed", "pause": "paused", "crash": "crashed", "exit": "exited", "fired": "crashed by a failpoint", "removed": "removed"}[why]
			parts = append(parts, strings.Join(hit, ",")+" "+verb)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(s.Degraded)) {
		parts = append(parts, n+" under "+s.Degraded[n])
	}
	if len(parts) == 0 {
		return "healthy"
	}
	return strings.Join(parts, "; ")
}

// Healthy reports whether no fault is in force.
func (s State) Healthy() bool {
	return s.Unknown == "" && len(s.Down) == 0 && len(s.Removed) == 0 && len(s.Grudge) == 0 && len(s.Degraded) == 0
}

func (s State) clone() State {
	c := State{Down: maps.Clone(s.Down), Removed: maps.Clone(s.Removed), Degraded: maps.Clone(s.Degraded), Unknown: s.Unknown}
	if s.Grudge != nil {
		c.Grudge = map[string][]string{}
		for k, v := range s.Grudge {
			c.Grudge[k] = slices.Clone(v)
		}
	}
	if c.Down == nil {
		c.Down = map[string]string{}
	}
	if c.Removed == nil {
		c.Removed = map[string]bool{}
	}
	if c.Degraded == nil {
		c.Degraded = map[string]string{}
	}
	return c
}

// stateValue is what the state reads of a fault op's completion value.
type stateValue struct {
	Nodes  []string            `json:"nodes"`
	Node   string              `json:"node"`
	Groups [][]string          `json:"groups"`
	Grudge map[string][]string `json:"grudge"`
	// Readded, Restarted, Resumed and Rebooted are the heal's report.
	Readded []string `json:"readded"`
}

// Timeline reads the states of the cluster from the fault ops of h, in
// order: one Segment from each fault op's completion to the next one's
// invocation (the first from the start). Between a fault op's invocation
// and its completion the state is changing and belongs to no segment. A
// fault op that failed changed nothing; one whose effect is unknown (info,
// never completed, an unreadable value) makes the state unknown until the
// final heal.
func Timeline(h harness.History) []Segment {
	var out []Segment
	state := State{}.clone()
	from := time.Duration(0)
	var began harness.Pair
	var last time.Duration
	if len(h) > 0 {
		last = h[len(h)-1].Time
	}
	for _, p := range faultPairs(h) {
		if firedDuringStop(p, began) {
			continue
		}
		if p.Invoke.Time > from || len(out) == 0 {
			out = append(out, Segment{From: from, To: p.Invoke.Time, State: state.clone(), Began: began})
		}
		state = apply(state.clone(), p)
		from, began = completionTime(p, last), p
	}
	out = append(out, Segment{From: from, To: max(from, last), State: state.clone(), Began: began})
	return out
}

// faultPairs are the nemesis and monitor op pairs of h that change the
// state, in invocation order.
func faultPairs(h harness.History) []harness.Pair {
	var out []harness.Pair
	for _, p := range h.Pairs() {
		if p.Invoke.IsClient() {
			continue
		}
		_, edge := Of(p.Invoke.F)
		if edge != NoEdge || p.Invoke.F == ProcessExit || p.Invoke.F == harness.FailpointFired {
			out = append(out, p)
		}
	}
	return out
}

// firedDuringStop says whether fired is a failpoint firing on a node
// while stop, a stop-failpoint that names the node, was in flight
// (invoked, not yet completed). It fired before the stop disarmed it,
// and the stop then started the node again, so it leaves the node up.
func firedDuringStop(fired, stop harness.Pair) bool {
	if fired.Invoke.F != harness.FailpointFired || stop.Invoke.F != StopFailpoint || stop.Completion == nil ||
		stop.Completion.Type != harness.OK || fired.Invoke.Time >= stop.Completion.Time || fired.Completion == nil {
		return false
	}
	var e harness.Exit
	var v stateValue
	if json.Unmarshal(fired.Completion.Value, &e) != nil || json.Unmarshal(stop.Completion.Value, &v) != nil {
		return false
	}
	return slices.Contains(v.Nodes, e.Node)
}

// apply returns the state after the op pair p.
func apply(s State, p harness.Pair) State {
	f := p.Invoke.F
	c := p.Completion
	if c != nil && c.Type == harness.Fail {
		return s // refused: nothing was done
	}
	k, edge := Of(f)
	var v stateValue
	var decodeErr error
	if c != nil && len(c.Value) > 0 && string(c.Value) != "null" {
		if decodeErr = json.Unmarshal(c.Value, &v); decodeErr != nil {
			// A partition may record its groups bare: [["n1"],["n2","n3"]].
			if json.Unmarshal(c.Value, &v.Groups) == nil {
				decodeErr = nil
			}
		}
	}
	if edge == HealsAll {
		if c == nil || c.Type != harness.OK {
			s.Unknown = "the final heal may be partly applied"
			return s
		}
		return State{}.clone()
	}
	unknown := func(why string) State {
		if s.Unknown == "" {
			s.Unknown = why
		}
		return s
	}
	if f == ProcessExit || f == harness.FailpointFired {
		// An observation, recorded at once: its value says which node.
		var e harness.Exit
		if c == nil || json.Unmarshal(c.Value, &e) != nil || e.Node == "" {
			return unknown("a " + f + " names no node")
		}
		s.Down[e.Node] = "exit"
		if f == harness.FailpointFired {
			s.Down[e.Node] = "fired"
		}
		return s
	}
	switch {
	case c == nil:
		return unknown(f + " never completed")
	case c.Type != harness.OK:
		return unknown(fmt.Sprintf("%s may be partly applied (%s)", f, c.Type))
	case decodeErr != nil:
		return unknown(fmt.Sprintf("%s has an unreadable value: %v", f, decodeErr))
	}
	switch k.Effect {
	case Cut:
		if edge == Closes {
			s.Grudge = nil
			return s
		}
		g := v.Grudge
		if len(g) == 0 && len(v.Groups) > 1 {
			g = grudgeOf(v.Groups)
		}
		if len(g) == 0 {
			return unknown(f + " names neither groups nor a grudge")
		}
		s.Grudge = g
	case Down:
		why := k.Name
		if edge == Opens {
			if len(v.Nodes) == 0 {
				return unknown(f + " names no nodes")
			}
			for _, n := range v.Nodes {
				s.Down[n] = why
			}
			return s
		}
		undo := v.Nodes
		if len(undo) == 0 && len(c.Value) == 0 {
			// A history that does not say which: every node this kind
			// stopped.
			for n, w := range s.Down {
				if w == why {
					undo = append(undo, n)
				}
			}
		}
		for _, n := range undo {
			if s.Down[n] == why || s.Down[n] == "exit" {
				delete(s.Down, n)
			}
		}
	case Removed:
		if v.Node == "" {
			return unknown(f + " names no node")
		}
		if edge == Opens {
			s.Removed[v.Node], s.Down[v.Node] = true, "removed"
		} else {
			delete(s.Removed, v.Node)
			delete(s.Down, v.Node)
		}
	case Degraded:
		if edge == Closes {
			for n, kind := range s.Degraded {
				if kind == k.Name {
					delete(s.Degraded, n)
				}
			}
			for _, n := range v.Nodes {
				if s.Down[n] == "fired" {
					delete(s.Down, n) // restarted after its failpoint fired
				}
			}
			return s
		}
		for _, n := range v.Nodes {
			s.Degraded[n] = k.Name
		}
	default:
		if k.Effect == "" && edge == Opens {
			// A kind faultline does not describe (a foreign history's
			// start-<x>): what it did is unknown.
			return unknown("a " + k.Name + " fault, which faultline does not model")
		}
	}
	return s
}

// grudgeOf is the complete grudge of clean groups: every node drops every
// node outside its own group.
func grudgeOf(groups [][]string) map[string][]string {
	g := map[string][]string{}
	for i, grp := range groups {
		for _, n := range grp {
			for j, other := range groups {
				if i != j {
					g[n] = append(g[n], other...)
				}
			}
			sort.Strings(g[n])
		}
	}
	return g
}
