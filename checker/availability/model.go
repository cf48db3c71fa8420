package availability

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// cutRun is a span during which a node (or, for the failover clients,
// every node) could not serve a linearizable op: from the completion of
// the fault op that cut it off to the invocation of the one that may have
// given it back a quorum.
type cutRun struct {
	from, to time.Duration
}

// model is what the checker reads of a history before it judges: the
// segments of constant state, and for each node the runs in which it could
// not serve.
type model struct {
	cfg      Config
	segments []fault.Segment
	// runs holds each node's cut-off runs, and the failover clients'
	// under cfg.FailoverNode: the runs in which no node could serve.
	runs map[string][]cutRun
	// pairs holds the client op pairs of each node, and of the failover
	// clients under cfg.FailoverNode, in invocation order.
	pairs map[string][]harness.Pair
}

// newModel reads the segments of h and the cut-off runs of every node;
// byNode are the client pairs by node.
func newModel(h harness.History, cfg Config, byNode map[string][]harness.Pair) *model {
	m := &model{cfg: cfg, segments: fault.Timeline(h), runs: map[string][]cutRun{}, pairs: byNode}
	for _, n := range append(slices.Clone(cfg.Nodes), cfg.FailoverNode) {
		var open *cutRun
		for _, s := range m.segments {
			if m.canServe(s.State, n) {
				if open != nil {
					m.runs[n] = append(m.runs[n], *open)
					open = nil
				}
				continue
			}
			if open == nil {
				open = &cutRun{from: s.From}
			}
			open.to = s.To
		}
		if open != nil {
			m.runs[n] = append(m.runs[n], *open)
		}
	}
	return m
}

// canServe says whether node n (or any node, for the failover label) may
// answer a linearizable op in state s. An unknown state may let anyone
// serve: nothing can be demanded of it.
func (m *model) canServe(s fault.State, n string) bool {
	if s.Unknown != "" {
		return true
	}
	if n == m.cfg.FailoverNode {
		return slices.ContainsFunc(m.cfg.Nodes, func(x string) bool { return s.MayServe(x, m.cfg.Nodes) })
	}
	return s.MayServe(n, m.cfg.Nodes)
}

// runAt returns the cut-off run of n that holds t, if any.
func (m *model) runAt(n string, t time.Duration) (cutRun, bool) {
	for _, r := range m.runs[n] {
		if t >= r.from && t < r.to {
			return r, true
		}
	}
	return cutRun{}, false
}

// graceEnd is when the grace of node n's cut-off run holding t ends; a
// node that could serve at t has no grace, and an end past every time.
func (m *model) graceEnd(n string, t time.Duration) time.Duration {
	if r, ok := m.runAt(n, t); ok {
		return r.from + m.cfg.Grace
	}
	return 1<<63 - 1
}

// lateOK reports whether the op pair p, pinned to node, breaks the
// minority rule: a linearizable op invoked in one of the node's cut-off
// runs, after the grace, and answered ok before the run ended. An op
// invoked before the cut may have committed before it; one answered after
// the run ended may have committed after it: neither proves anything.
func (m *model) lateOK(node string, p harness.Pair) (cutRun, bool) {
	c := p.Completion
	if c == nil || c.Type != harness.OK || !m.cfg.linearizable(p.Invoke.F) {
		return cutRun{}, false
	}
	r, ok := m.runAt(node, p.Invoke.Time)
	if !ok || p.Invoke.Time < r.from+m.cfg.Grace || c.Time >= r.to {
		return cutRun{}, false
	}
	return r, true
}

// minorityViolations are every op that broke the minority rule, in
// invocation order: ops pinned to a node in a cut-off run, and failover
// ops while no node could serve.
func (m *model) minorityViolations(byNode map[string][]harness.Pair) []violation {
	var out []violation
	for _, n := range append(slices.Clone(m.cfg.Nodes), m.cfg.FailoverNode) {
		for _, p := range byNode[n] {
			r, late := m.lateOK(n, p)
			if !late {
				continue
			}
			why := "cut off from every quorum"
			if n == m.cfg.FailoverNode {
				why = "while no node could reach a quorum"
			} else if s := m.segmentAt(p.Invoke.Time); s != nil && s.State.Down[n] != "" {
				why = "while its DB process was " + verbOf(s.State.Down[n])
			}
			out = append(out, violation{at: p.Invoke.Time, Violation: Violation{Rule: "minority", Node: n, Op: p.Invoke.Index,
				Message: fmt.Sprintf("%s on %s (op %d, process %v) invoked at %s, %s after %s was %s at %s (grace %s), answered ok at %s before that ended at %s",
					p.Invoke.F, n, p.Invoke.Index, p.Invoke.Process, fmtSeconds(p.Invoke.Time), fmtDuration(p.Invoke.Time-r.from),
					nodeOrAll(n, m.cfg), why, fmtSeconds(r.from), fmtDuration(m.cfg.Grace), fmtSeconds(p.Completion.Time), fmtSeconds(r.to))}})
		}
	}
	slices.SortFunc(out, func(a, b violation) int { return int(a.at - b.at) })
	return out
}

// segmentAt returns the stable segment holding t, or nil in a transition.
func (m *model) segmentAt(t time.Duration) *fault.Segment {
	for i := range m.segments {
		if t >= m.segments[i].From && t < m.segments[i].To {
			return &m.segments[i]
		}
	}
	return nil
}

// violation is a Violation with the time it is placed at, for ordering
// and for attributing it to windows and segments.
type violation struct {
	at time.Duration
	Violation
}

func nodeOrAll(n string, cfg Config) string {
	if n == cfg.FailoverNode {
		return "the cluster"
	}
	return n
}

// verbOf is the participle of a reason a node is down.
func verbOf(why string) string {
	switch why {
	case "kill":
		return "killed"
	case "pause":
		return "paused"
	case "crash":
		return "crashed"
	case "exit":
		return "exited"
	case "fired":
		return "crashed by a failpoint"
	case "removed":
		return "removed"
	}
	return why
}

// downNodes lists the nodes of s that are down, with why, in name order.
func downNodes(s fault.State, nodes []string) (names []string, whys []string) {
	for _, n := range nodes {
		if why := s.Down[n]; why != "" {
			names = append(names, n)
			if !slices.Contains(whys, why) {
				whys = append(whys, why)
			}
		}
	}
	return names, whys
}

// joinSides renders sides as "n1,n2 | n3,n4,n5".
func joinSides(sides [][]string) string {
	parts := make([]string, len(sides))
	for i, s := range sides {
		parts[i] = strings.Join(s, ",")
	}
	return strings.Join(parts, " | ")
}

// fmtDuration renders a duration in seconds, as every figure is shown.
func fmtDuration(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
