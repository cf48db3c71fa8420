package availability

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// Restore is a moment an op gave a quorum back to a cluster that had none
// anywhere (a heal, a restart, a resume), and how long the cluster took
// to answer a linearizable op again.
type Restore struct {
	// AtS is when the op completed; By names it.
	AtS float64 `json:"at_s"`
	By  string  `json:"by"`
	// ServedS is the time from AtS to the first linearizable op answered
	// ok by any client; nil if none was before the quorum was lost again
	// or the history ended.
	ServedS *float64 `json:"served_s"`
	// Met says whether ServedS is within the bound; nil when it could not
	// be judged (Note says why).
	Met  *bool  `json:"met,omitempty"`
	Note string `json:"note,omitempty"`
}

// restores finds every moment a quorum came back and holds the cluster to
// QuorumRestoreBound.
func (m *model) restores(all []harness.Pair) ([]Restore, []violation) {
	cfg := m.cfg
	var out []Restore
	var vs []violation
	segs := m.segments
	quorum := func(s fault.Segment) bool { return m.canServe(s.State, cfg.FailoverNode) }
	for i := 1; i < len(segs); i++ {
		prev, cur := segs[i-1], segs[i]
		if prev.State.Unknown != "" || cur.State.Unknown != "" || quorum(prev) || !quorum(cur) {
			continue
		}
		r := Restore{AtS: roundSeconds(cur.From), By: beganBy(cur)}
		limit := segs[len(segs)-1].To
		for _, s := range segs[i+1:] {
			if !quorum(s) {
				limit = s.From
				break
			}
		}
		first := time.Duration(-1)
		waited := false
		for _, p := range all {
			if p.Invoke.Time >= cur.From && p.Invoke.Time < cur.From+cfg.QuorumRestoreBound {
				waited = true
			}
			c := p.Completion
			if c == nil || c.Type != harness.OK || !cfg.linearizable(p.Invoke.F) || c.Time <= cur.Began.Invoke.Time || c.Time >= limit {
				continue
			}
			if first < 0 || c.Time < first {
				first = c.Time
			}
		}
		switch {
		case first >= 0:
			r.ServedS = secondsPtr(max(0, first-cur.From))
			met := first-cur.From <= cfg.QuorumRestoreBound
			r.Met = &met
		case !waited:
			r.Note = "no client asked for anything after it"
		case limit-cur.From < cfg.QuorumRestoreBound:
			r.Note = fmt.Sprintf("the quorum was lost again, or the history ended, %s after it", fmtDuration(limit-cur.From))
		default:
			met := false
			r.Met = &met
		}
		if r.Met != nil && !*r.Met {
			msg := fmt.Sprintf("after %s gave the cluster a quorum back at %s, no linearizable op was answered ok for %s (bound %s) while clients waited",
				r.By, fmtSeconds(cur.From), fmtDuration(cfg.QuorumRestoreBound), fmtDuration(cfg.QuorumRestoreBound))
			if r.ServedS != nil {
				msg = fmt.Sprintf("after %s gave the cluster a quorum back at %s, it took %.2fs to answer a linearizable op (bound %s)",
					r.By, fmtSeconds(cur.From), *r.ServedS, fmtDuration(cfg.QuorumRestoreBound))
			}
			vs = append(vs, violation{at: cur.From, Violation: Violation{Rule: "quorum-restore", Op: -1, Message: msg}})
		}
		out = append(out, r)
	}
	return out, vs
}

// FinalRecovery is how long one node took, after the final heal, to
// answer a linearizable op: the harness probes every node until it does.
type FinalRecovery struct {
	// Node is the node's name.
	Node string `json:"node"`
	// Seconds runs from the final heal's completion to the node's first
	// linearizable op answered ok; nil if it answered none.
	Seconds *float64 `json:"seconds"`
	// Attempts counts the node's ops invoked after the heal.
	Attempts int `json:"attempts"`
	// Note explains a nil Seconds.
	Note string `json:"note,omitempty"`
}

// finalRecovery measures every member after the final heal (or, with no
// nemesis, after the first probe), and holds each to RecoverBound. It also
// returns, for the verdict, the nodes whose recovery could not be judged
// because no op was tried on them after the heal.
//
// Only a history whose harness probed the nodes after the heal is held to
// the rule; an older one, or one that ends at the heal, gets the figures
// it can give.
func (m *model) finalRecovery(h harness.History) (out []FinalRecovery, vs []violation, unjudged []string) {
	cfg := m.cfg
	healed, ok := healTime(h)
	if !ok {
		return nil, nil, nil
	}
	probed := slices.ContainsFunc(h, func(op harness.Op) bool { return op.F == harness.ProbeF && op.IsClient() })
	if !probed {
		cfg.RecoverBound = 0
	}
	tried := false
	exits := exitsOf(h)
	for _, n := range cfg.Nodes {
		r := FinalRecovery{Node: n}
		var last *harness.Op
		first := time.Duration(-1)
		for _, p := range m.pairs[n] {
			if p.Invoke.Time < healed {
				continue
			}
			r.Attempts++
			c := p.Completion
			if c == nil {
				continue
			}
			last = c
			if c.Type == harness.OK && cfg.linearizable(p.Invoke.F) && (first < 0 || c.Time < first) {
				first = c.Time
			}
		}
		switch {
		case first >= 0:
			r.Seconds = secondsPtr(first - healed)
			if cfg.RecoverBound > 0 && first-healed > cfg.RecoverBound {
				vs = append(vs, violation{at: healed, Violation: Violation{Rule: "recovery", Node: n, Op: -1,
					Message: fmt.Sprintf("%s first served a linearizable op %s after the final heal (bound %s)%s", n, fmtDuration(first-healed), fmtDuration(cfg.RecoverBound), exits[n])}})
			}
		case r.Attempts == 0:
			r.Note = "no op was tried on it after the final heal"
			if probed {
				unjudged = append(unjudged, n)
			}
		default:
			why := ""
			if last != nil && last.Error != "" {
				why = "; the last answer: " + harness.Shorten(last.Error, 160)
			}
			r.Note = fmt.Sprintf("it answered none of %d ops after the final heal%s", r.Attempts, why)
			if cfg.RecoverBound > 0 {
				vs = append(vs, violation{at: healed, Violation: Violation{Rule: "recovery", Node: n, Op: -1,
					Message: fmt.Sprintf("%s never served a linearizable op again after the final heal at %s (%d ops tried%s)%s", n, fmtSeconds(healed), r.Attempts, why, exits[n])}})
			}
		}
		tried = tried || r.Attempts > 0
		out = append(out, r)
	}
	if !tried {
		return nil, nil, unjudged
	}
	return out, vs, unjudged
}

// healTime is the completion of the last final heal, or, with no
// nemesis, the invocation of the first probe.
func healTime(h harness.History) (time.Duration, bool) {
	var t time.Duration = -1
	for _, p := range h.Pairs() {
		switch {
		case !p.Invoke.IsClient() && p.Invoke.F == fault.Heal && p.Completion != nil:
			t = p.Completion.Time
		case p.Invoke.F == harness.ProbeF && t < 0:
			t = p.Invoke.Time
		}
	}
	return t, t >= 0
}

// exitsOf describes, per node, the exits of its DB process the monitor
// recorded: "; its DB process exited by itself at 12.30s (status 2):
// panic: ...".
func exitsOf(h harness.History) map[string]string {
	out := map[string]string{}
	for _, op := range h {
		if op.Process != harness.MonitorProcess || op.F != harness.ProcessExit || op.Type == harness.Invoke {
			continue
		}
		var e harness.Exit
		if json.Unmarshal(op.Value, &e) != nil || e.Node == "" {
			continue
		}
		if strings.Contains(out[e.Node], "exited") {
			continue // the first exit says why
		}
		line := ""
		if e.Line != "" {
			line = ": " + harness.Shorten(e.Line, 200)
		}
		out[e.Node] = fmt.Sprintf("; its DB process exited by itself at %s (status %d)%s", fmtSeconds(op.Time), e.Code, line)
	}
	return out
}

// sortViolations orders violations by time, then rule.
func sortViolations(vs []violation) {
	slices.SortStableFunc(vs, func(a, b violation) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		return strings.Compare(a.Rule, b.Rule)
	})
}
