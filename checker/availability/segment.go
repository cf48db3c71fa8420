package availability

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// Roles a side plays in a segment.
const (
	// RoleMajority is a clean side with a quorum: it must keep accepting
	// writes.
	RoleMajority = "majority"
	// RoleMinority is a side (or, without clean sides, a node) that
	// reaches no quorum: it must refuse every linearizable op once the
	// grace period is over.
	RoleMinority = "minority"
	// RolePartial is a node that reaches a quorum where visibility is not
	// transitive (a bridge, a ring): it may serve, and nothing is
	// demanded of it.
	RolePartial = "partial"
	// RoleDown is the nodes a kill, pause, crash or exit stopped, or a
	// membership change removed: nothing can answer.
	RoleDown = "down"
)

// Segment is the figures and verdict of one span of constant state with a
// fault in force: from the completion of a fault op to the invocation of
// the next.
type Segment struct {
	// Number counts the segments with a fault in force from 1.
	Number int `json:"number"`
	// FromS and ToS bound it.
	FromS float64 `json:"from_s"`
	ToS   float64 `json:"to_s"`
	// BeganBy names the fault op whose completion began it.
	BeganBy string `json:"began_by"`
	// State describes the cluster: "n1,n5 | n2,n3; n4 killed".
	State string `json:"state"`
	// Sides are the state's sides with their figures: clean groups that
	// reach each other, or, without clean sides, each node as partial or
	// minority; and the nodes that are down.
	Sides []Side `json:"sides,omitempty"`
	// PerNode are the figures of the clients pinned to each node.
	PerNode []NodeFigures `json:"per_node"`
	// Failover are the figures of the clients given every endpoint.
	Failover *Figures `json:"failover,omitempty"`
	// Expectation states what a CP store must do in it.
	Expectation string `json:"expectation"`
	// Judged says whether the rules were applied; NotJudged says why not.
	Judged    bool   `json:"judged"`
	NotJudged string `json:"not_judged,omitempty"`
	// Met says whether the expectation was met; nil when not judged.
	Met *bool `json:"met,omitempty"`
}

// Side is one side of a segment with its figures.
type Side struct {
	// Role is majority, minority, partial or down.
	Role string `json:"role"`
	// Nodes are the side's nodes.
	Nodes []string `json:"nodes"`
	// MajorityRuleSkipped says why the majority rule was not applied to
	// this majority: a node of it answered nothing since an earlier fault
	// cut it off (etcd's peers can take 13 s to reconnect after a heal,
	// because of TCP's retransmission backoff), or one of it was degraded.
	MajorityRuleSkipped string `json:"majority_rule_skipped,omitempty"`
	Figures
}

// NodeFigures are the figures of the clients pinned to one node.
type NodeFigures struct {
	// Node is the node's name; Role the role of its side.
	Node string `json:"node"`
	Role string `json:"role,omitempty"`
	Figures
}

// sidesOfState groups the nodes of a state into sides, with their roles.
func sidesOfState(s fault.State, cfg Config) (sides []Side, clean bool) {
	groups, clean := s.Sides(cfg.Nodes)
	q := s.Quorum(cfg.Nodes)
	if clean {
		for _, g := range groups {
			role := RoleMinority
			if len(g) >= q {
				role = RoleMajority
			}
			sides = append(sides, Side{Role: role, Nodes: g})
		}
	} else {
		var partial, minority []string
		for _, n := range s.Up(cfg.Nodes) {
			if s.MayServe(n, cfg.Nodes) {
				partial = append(partial, n)
			} else {
				minority = append(minority, n)
			}
		}
		if len(partial) > 0 {
			sides = append(sides, Side{Role: RolePartial, Nodes: partial})
		}
		if len(minority) > 0 {
			sides = append(sides, Side{Role: RoleMinority, Nodes: minority})
		}
	}
	if down, _ := downNodes(s, cfg.Nodes); len(down) > 0 {
		sides = append(sides, Side{Role: RoleDown, Nodes: down})
	}
	// The cut-off sides first, as a partition's layout names them, then
	// the majority, then the nodes that are down.
	order := map[string]int{RoleMinority: 0, RolePartial: 1, RoleMajority: 2, RoleDown: 3}
	slices.SortStableFunc(sides, func(a, b Side) int { return order[a.Role] - order[b.Role] })
	return sides, clean
}

// judgeSegment measures segment seg, applies the majority rule to it, and
// marks it met unless a violation falls in it. last is the history's last
// time; begin is when the fault op that began it was invoked.
func (m *model) judgeSegment(number int, seg fault.Segment, byNode map[string][]harness.Pair, vs []violation) (Segment, []violation) {
	cfg := m.cfg
	begin := seg.From
	if seg.Began.Invoke.F != "" {
		begin = seg.Began.Invoke.Time
	}
	out := Segment{Number: number, FromS: roundSeconds(seg.From), ToS: roundSeconds(seg.To),
		BeganBy: beganBy(seg), State: seg.State.Describe(cfg.Nodes)}
	if seg.State.Unknown != "" {
		out.NotJudged = seg.State.Unknown
		out.Expectation = "not judged: " + seg.State.Unknown
		return out, nil
	}
	w := span{begin, seg.To}
	sides, clean := sidesOfState(seg.State, cfg)
	var majorityVs []violation
	for _, side := range sides {
		var pairs []harness.Pair
		for _, n := range side.Nodes {
			pairs = append(pairs, byNode[n]...)
		}
		withGap := side.Role == RoleMajority
		fig := m.measure(pairs, w, seg.From, withGap)
		side.Figures = fig.Figures
		if side.Role == RoleMajority {
			if skip := m.majorityRuleSkipped(side.Nodes, seg, begin); skip != "" {
				side.MajorityRuleSkipped = skip
			} else if fig.hasGap && fig.longestGap.to-fig.longestGap.from > cfg.MajorityGapBound {
				g := fig.longestGap
				majorityVs = append(majorityVs, violation{at: g.from, Violation: Violation{Rule: "majority", Node: strings.Join(side.Nodes, ","), Op: -1,
					Message: fmt.Sprintf("the majority %s accepted no write from %s to %s (%s, bound %s) while its clients waited",
						strings.Join(side.Nodes, ","), fmtSeconds(g.from), fmtSeconds(g.to), fmtDuration(g.to-g.from), fmtDuration(cfg.MajorityGapBound))}})
			}
		}
		out.Sides = append(out.Sides, side)
	}
	for _, n := range cfg.Nodes {
		role := ""
		for _, side := range out.Sides {
			if slices.Contains(side.Nodes, n) {
				role = side.Role
			}
		}
		out.PerNode = append(out.PerNode, NodeFigures{Node: n, Role: role, Figures: m.measure(byNode[n], w, seg.From, false).Figures})
	}
	if pairs := byNode[cfg.FailoverNode]; len(pairs) > 0 {
		fig := m.measure(pairs, w, seg.From, true)
		out.Failover = &fig.Figures
	}
	out.Expectation = m.expectation(seg.State, sides, clean)
	out.Judged = true
	met := len(majorityVs) == 0
	for _, v := range vs {
		if v.at >= seg.From && v.at < seg.To {
			met = false
		}
	}
	out.Met = &met
	return out, majorityVs
}

// beganBy names the op that began a segment.
func beganBy(seg fault.Segment) string {
	if seg.Began.Invoke.F == "" {
		return "the start"
	}
	if seg.Began.Invoke.F == fault.Heal {
		return fault.Heal
	}
	return fault.Label(seg.Began.Invoke.F, seg.Began)
}

// majorityRuleSkipped says why the majority rule does not apply to side
// in seg, or "". A degraded node (lossy, slowed) may stall any election;
// a node that has answered nothing since an earlier cut-off run may not
// have reconnected to its peers yet, so the side may hold no quorum.
func (m *model) majorityRuleSkipped(side []string, seg fault.Segment, begin time.Duration) string {
	var degraded []string
	for _, n := range side {
		if kind := seg.State.Degraded[n]; kind != "" {
			degraded = append(degraded, n+" ("+kind+")")
		}
	}
	if len(degraded) > 0 {
		return fmt.Sprintf("%s is degraded, which may stall any election", strings.Join(degraded, ", "))
	}
	stale := m.unrecovered(side, begin)
	if len(side)-len(stale) < seg.State.Quorum(m.cfg.Nodes) {
		return fmt.Sprintf("%s had answered no linearizable op since an earlier fault cut them off, so the side may have held no quorum", strings.Join(stale, ","))
	}
	return ""
}

// unrecovered lists the nodes that were cut off in a run that ended by t
// and answered no linearizable op ok between that run's end and t. A node
// without clients is never seen to recover, so it is listed too.
func (m *model) unrecovered(nodes []string, t time.Duration) []string {
	var out []string
	for _, n := range nodes {
		var since time.Duration = -1
		for _, r := range m.runs[n] {
			if r.to <= t {
				since = r.to
			}
		}
		if since < 0 {
			continue
		}
		served := slices.ContainsFunc(m.pairs[n], func(p harness.Pair) bool {
			c := p.Completion
			return c != nil && c.Type == harness.OK && m.cfg.linearizable(p.Invoke.F) && c.Time >= since && c.Time < t
		})
		if !served {
			out = append(out, n)
		}
	}
	return out
}

// expectation states, in a sentence, what a CP store must do in state s.
func (m *model) expectation(s fault.State, sides []Side, clean bool) string {
	cfg := m.cfg
	grace, bound := fmtDuration(cfg.Grace), fmtDuration(cfg.MajorityGapBound)
	members := len(s.Members(cfg.Nodes))
	q := s.Quorum(cfg.Nodes)
	var majority, minority, partial []string
	for _, side := range sides {
		switch side.Role {
		case RoleMajority:
			majority = append(majority, strings.Join(side.Nodes, ","))
		case RoleMinority:
			minority = append(minority, strings.Join(side.Nodes, ","))
		case RolePartial:
			partial = append(partial, side.Nodes...)
		}
	}
	down, whys := downNodes(s, cfg.Nodes)
	if len(s.Grudge) == 0 && len(down) > 0 {
		verb := verbOf(whys[0])
		if len(whys) > 1 {
			verb = "down"
		}
		if len(majority) > 0 {
			return fmt.Sprintf("%d of %d %s leaves a majority: writes stay available (no write gap over %s)", len(down), len(cfg.Nodes), verb, bound)
		}
		return fmt.Sprintf("%d of %d %s leaves no majority: writes stop (no write or linearizable read invoked %s after the %s succeeds until the restart)", len(down), len(cfg.Nodes), verb, grace, whys[0])
	}
	if len(s.Grudge) == 0 {
		return "nothing is cut (a node is slowed, lossy or has a failpoint armed): no side changes, so nothing is demanded but serving"
	}
	if !clean {
		if len(minority) == 0 {
			return fmt.Sprintf("no clean sides: every node reaches a quorum of %d through some leader, so none must refuse; the majority rule needs clean sides", q)
		}
		return fmt.Sprintf("no clean sides: %s reach no quorum of %d and serve no linearizable op invoked %s after the cut; %s may serve", strings.Join(minority, ","), q, grace, strings.Join(partial, ","))
	}
	downNote := ""
	if len(down) > 0 {
		downNote = fmt.Sprintf(" with %s %s", strings.Join(down, ","), verbOf(whys[0]))
	}
	if len(majority) == 0 {
		return fmt.Sprintf("no side has a majority of the %d members%s: no side serves a linearizable op invoked %s after the cut", members, downNote, grace)
	}
	if len(minority) == 0 {
		return fmt.Sprintf("the majority (%s)%s accepts writes with no gap over %s", majority[0], downNote, bound)
	}
	return fmt.Sprintf("the minority (%s) serves no linearizable op invoked %s after the cut; the majority (%s) accepts writes with no gap over %s",
		strings.Join(minority, " | "), grace, majority[0], bound)
}
