package availability

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// Window is the figures and verdict of one fault window.
type Window struct {
	// Number counts the windows from 1, in the order they began.
	Number int `json:"number"`
	// Kind is partition, kill or pause; Layout is a partition's layout.
	Kind   string `json:"kind"`
	Layout string `json:"layout,omitempty"`
	// Cut are the nodes a kill or pause hit, or that a partition cut off
	// from at least one other node.
	Cut []string `json:"cut,omitempty"`
	// StartS and InForceS are when the fault began and when it was
	// certainly in force (the invocation and completion of its op); EndS
	// and HealedS the same for the op that ended it.
	StartS   float64 `json:"start_s"`
	InForceS float64 `json:"in_force_s"`
	EndS     float64 `json:"end_s"`
	HealedS  float64 `json:"healed_s"`
	// ClosedBy is the f that ended the fault, or "end of history".
	ClosedBy string `json:"closed_by"`
	// Sides are the clean sides with their figures; empty for layouts
	// without clean sides.
	Sides []Side `json:"sides,omitempty"`
	// PerNode are the figures of the clients pinned to each node.
	PerNode []NodeFigures `json:"per_node"`
	// Failover are the figures of the clients given every endpoint.
	Failover *Figures `json:"failover,omitempty"`
	// Recovery is the recovery of each node that lost the majority.
	Recovery []Recovery `json:"recovery,omitempty"`
	// Expectation states what a CP store must do in this window.
	Expectation string `json:"expectation"`
	// Judged says whether the rules were applied; NotJudged says why not.
	Judged    bool   `json:"judged"`
	NotJudged string `json:"not_judged,omitempty"`
	// Met says whether the expectation was met; nil when not judged.
	Met *bool `json:"met,omitempty"`
}

// Side is one clean side of a window with its figures.
type Side struct {
	// Role is majority, minority or down.
	Role string `json:"role"`
	// Nodes are the side's nodes.
	Nodes []string `json:"nodes"`
	// MajorityRuleSkipped says why the majority rule was not applied to
	// this majority: too few of its nodes were known to have recovered
	// from an earlier fault (etcd's peers can take 13 s to reconnect after
	// a heal, because of TCP's retransmission backoff).
	MajorityRuleSkipped string `json:"majority_rule_skipped,omitempty"`
	Figures
}

// NodeFigures are the figures of the clients pinned to one node.
type NodeFigures struct {
	// Node is the node's name; Role the role of its side, if any.
	Node string `json:"node"`
	Role string `json:"role,omitempty"`
	Figures
}

// judgeWindow measures fault f and applies the rules to it. earlier and
// later are the faults before and after it; last is the history's last
// time, where the search for recoveries ends.
func judgeWindow(number int, f window, byNode map[string][]harness.Pair, cfg Config, earlier, later []window, last time.Duration) (Window, []Violation) {
	sides, clean := sidesOf(f, cfg)
	w := Window{
		Number: number, Kind: f.kind, Layout: f.layout, Cut: f.cut,
		StartS: roundSeconds(f.start), InForceS: roundSeconds(f.inForce),
		EndS: roundSeconds(f.end), HealedS: roundSeconds(f.healed), ClosedBy: f.closedBy,
		NotJudged: f.unusable,
	}
	if f.unusable != "" {
		w.Expectation = "not judged: " + f.unusable
		return w, nil
	}
	w.Expectation = expectation(f, sides, clean, cfg)
	var vs []Violation
	noQuorum := clean && !hasMajority(sides)
	for _, s := range sides {
		var pairs []harness.Pair
		for _, n := range s.nodes {
			pairs = append(pairs, byNode[n]...)
		}
		m := measure(pairs, f, cfg, s.role == RoleMajority)
		w.Sides = append(w.Sides, Side{Role: s.role, Nodes: s.nodes, Figures: m.Figures})
		switch s.role {
		case RoleMinority:
			vs = append(vs, minorityViolations(number, m.lateOK, f, cfg)...)
		case RoleMajority:
			stale := unrecovered(s.nodes, earlier, byNode, cfg, f.start)
			if len(s.nodes)-len(stale) < cfg.majority() {
				w.Sides[len(w.Sides)-1].MajorityRuleSkipped = fmt.Sprintf("%s had answered no linearizable op since an earlier fault cut them off, so the side may have held no quorum", strings.Join(stale, ","))
				break
			}
			if m.hasGap && m.longestGap.to-m.longestGap.from > cfg.MajorityGapBound {
				vs = append(vs, Violation{Window: number, Rule: "majority", Node: strings.Join(s.nodes, ","), Op: -1,
					Message: fmt.Sprintf("the majority %s accepted no write from %s to %s (%s, bound %s) while its clients waited",
						strings.Join(s.nodes, ","), fmtSeconds(m.longestGap.from), fmtSeconds(m.longestGap.to),
						fmtDuration(m.longestGap.to-m.longestGap.from), fmtDuration(cfg.MajorityGapBound))})
			}
		}
	}
	for _, n := range cfg.Nodes {
		role := ""
		for _, s := range sides {
			if slices.Contains(s.nodes, n) {
				role = s.role
			}
		}
		w.PerNode = append(w.PerNode, NodeFigures{Node: n, Role: role, Figures: measure(byNode[n], f, cfg, false).Figures})
	}
	if pairs := byNode[cfg.FailoverNode]; len(pairs) > 0 {
		m := measure(pairs, f, cfg, true)
		w.Failover = &m.Figures
		if noQuorum {
			// With no quorum anywhere, no endpoint can answer either.
			vs = append(vs, minorityViolations(number, m.lateOK, f, cfg)...)
		}
	}
	w.Recovery = recoveries(f, cutOff(f, sides, clean), byNode, cfg, later, last)
	if clean {
		w.Judged = true
		met := len(vs) == 0
		w.Met = &met
	} else {
		w.NotJudged = "no clean sides"
	}
	return w, vs
}

// unrecovered lists the nodes that an earlier fault may have cut off and
// that answered no linearizable op ok between that fault's end and t. A
// node without clients is never seen to recover, so it is listed too.
func unrecovered(nodes []string, earlier []window, byNode map[string][]harness.Pair, cfg Config, t time.Duration) []string {
	var out []string
	for _, n := range nodes {
		var since time.Duration = -1
		for _, f := range earlier {
			if mayCutOff(f, n, cfg) {
				since = f.end
			}
		}
		if since < 0 {
			continue
		}
		served := slices.ContainsFunc(byNode[n], func(p harness.Pair) bool {
			c := p.Completion
			return c != nil && c.Type == harness.OK && cfg.linearizable(p.Invoke.F) && c.Time >= since && c.Time < t
		})
		if !served {
			out = append(out, n)
		}
	}
	return out
}

// minorityViolations reports each linearizable op a side without a quorum
// answered ok after the grace period.
func minorityViolations(number int, late []harness.Pair, f window, cfg Config) []Violation {
	var vs []Violation
	for _, p := range late {
		vs = append(vs, Violation{Window: number, Rule: "minority", Node: p.Invoke.Node, Op: p.Invoke.Index,
			Message: fmt.Sprintf("%s on %s (op %d, process %v) invoked at %s, %s after the fault was in force (grace %s), answered ok at %s before the fault ended at %s, without a quorum",
				p.Invoke.F, p.Invoke.Node, p.Invoke.Index, p.Invoke.Process, fmtSeconds(p.Invoke.Time),
				fmtDuration(p.Invoke.Time-f.inForce), fmtDuration(cfg.Grace), fmtSeconds(p.Completion.Time), fmtSeconds(f.end))})
	}
	return vs
}
