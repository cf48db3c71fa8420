package availability

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/faultline/faultline/harness"
)

// maxViolations bounds the violations listed in results.json; all are
// counted.
const maxViolations = 20

// Checker is the availability checker. It implements harness.Checker.
type Checker struct {
	cfg Config
}

// New returns a checker, or an error naming the field of cfg that is wrong.
func New(cfg Config) (*Checker, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Checker{cfg: cfg.withDefaults()}, nil
}

// Name is "availability".
func (*Checker) Name() string { return "availability" }

// Details is what the checker reports in results.json.
type Details struct {
	// Headline holds the figures a comparison table shows.
	Headline Headline `json:"headline"`
	// GraceS, MajorityGapBoundS, QuorumRestoreBoundS, RecoverBoundS and
	// ElectionTimeoutS are the parameters the verdict was reached with.
	GraceS              float64 `json:"grace_s"`
	MajorityGapBoundS   float64 `json:"majority_gap_bound_s"`
	QuorumRestoreBoundS float64 `json:"quorum_restore_bound_s"`
	RecoverBoundS       float64 `json:"recover_bound_s"`
	ElectionTimeoutS    float64 `json:"election_timeout_s"`
	// Serializable says reads were exempt from the minority rule.
	Serializable bool `json:"serializable"`
	// Windows are the fault windows, in the order they began.
	Windows []Window `json:"windows"`
	// Segments are the spans of constant state with a fault in force, in
	// order: what the rules are applied to.
	Segments []Segment `json:"segments"`
	// Restores are the moments a quorum came back to a cluster that had
	// none.
	Restores []Restore `json:"restores,omitempty"`
	// FinalRecovery is each node's recovery after the final heal.
	FinalRecovery []FinalRecovery `json:"final_recovery,omitempty"`
	// Outages are the spans of the run, longer than the outage threshold,
	// in which clients waited and the cluster accepted no write.
	Outages []Outage `json:"outages"`
	// Violations are the first few ops or gaps that broke a rule.
	Violations []Violation `json:"violations,omitempty"`
	// Unjudged names what could not be judged, which makes the verdict
	// unknown rather than valid.
	Unjudged []string `json:"unjudged,omitempty"`
}

// Headline is the few figures that sum up a run's availability.
type Headline struct {
	// WriteAvailability is the fraction of the run, from the first client
	// invocation to the last completion, not covered by an outage.
	WriteAvailability float64 `json:"write_availability"`
	// ElectionGapS is the longest election gap of a majority side.
	ElectionGapS *float64 `json:"election_gap_s"`
	// MajorityGapS is the longest write gap of a majority side.
	MajorityGapS *float64 `json:"majority_gap_s"`
	// MinorityLinearizableOK counts linearizable ops a node that could
	// reach no quorum answered ok after the grace period: each is a
	// violation.
	MinorityLinearizableOK int `json:"minority_linearizable_ok"`
	// MinoritySerializableReads counts serializable reads such a node
	// answered ok after the grace period.
	MinoritySerializableReads int `json:"minority_serializable_reads"`
	// MinorityOK counts every op a minority side answered ok while the
	// fault was in force, grace period included.
	MinorityOK int `json:"minority_ok"`
	// RecoveryS is the longest recovery of a cut-off node after a heal,
	// the final one included.
	RecoveryS *float64 `json:"recovery_s"`
	// QuorumRestoreS is the longest time the cluster took to serve again
	// after a quorum came back.
	QuorumRestoreS *float64 `json:"quorum_restore_s,omitempty"`
	// Judged and Windows count the fault windows judged and seen; Met
	// counts the judged windows whose expectation was met (nil in results
	// written before it was counted).
	Judged  int  `json:"judged"`
	Windows int  `json:"windows"`
	Met     *int `json:"met"`
	// Violations counts every violation of any rule.
	Violations int `json:"violations"`
}

// Outage is a span in which the cluster accepted no write.
type Outage struct {
	FromS float64 `json:"from_s"`
	ToS   float64 `json:"to_s"`
}

// Violation is one op or gap that broke a rule.
type Violation struct {
	// Window is the number of the first fault window it falls in; 0 for
	// none (a recovery after the final heal).
	Window int `json:"window"`
	// Rule is minority, majority, quorum-restore or recovery.
	Rule string `json:"rule"`
	// Node is the client's node (or the failover label), or the side.
	Node string `json:"node,omitempty"`
	// Op is the invocation index of the offending op, -1 for a gap.
	Op int `json:"op"`
	// Message says what happened, with times.
	Message string `json:"message"`
}

// Check judges h. It writes nothing to out.
//
// It reads the cluster's state between fault ops (fault.Timeline): who is
// up, who reaches whom. A node reaches a quorum when it is up and reaches
// a node that reaches a majority of the up members. The rules:
//
//   - minority: a node that reaches no quorum (and the failover clients
//     when no node does) answers no linearizable op invoked more than the
//     grace after it was cut off and answered before it may serve again;
//   - majority: in a state with clean sides, the side with a quorum goes
//     no longer than MajorityGapBound without accepting a write while its
//     clients wait (unless a node of it has not been seen to recover from
//     an earlier cut, or is degraded);
//   - quorum-restore: once an op gives a quorum back to a cluster that had
//     none anywhere, a linearizable op is answered within
//     QuorumRestoreBound while clients wait;
//   - recovery: after the final heal every node answers a linearizable op
//     within RecoverBound.
func (c *Checker) Check(_ context.Context, h harness.History, _ string) harness.Result {
	cfg := c.cfg
	var clientPairs []harness.Pair
	byNode := map[string][]harness.Pair{}
	for _, p := range h.Client().Pairs() {
		clientPairs = append(clientPairs, p)
		node := p.Invoke.Node
		if !slices.Contains(cfg.Nodes, node) {
			node = cfg.FailoverNode
		}
		byNode[node] = append(byNode[node], p)
	}
	d := &Details{
		GraceS: roundSeconds(cfg.Grace), MajorityGapBoundS: roundSeconds(cfg.MajorityGapBound),
		QuorumRestoreBoundS: roundSeconds(cfg.QuorumRestoreBound), RecoverBoundS: roundSeconds(cfg.RecoverBound),
		ElectionTimeoutS: roundSeconds(cfg.ElectionTimeout), Serializable: cfg.Serializable,
		Windows: []Window{}, Segments: []Segment{}, Outages: []Outage{},
	}
	last := lastTime(h)
	m := newModel(h, cfg, byNode)
	violations := m.minorityViolations(byNode)
	var segSpans []span
	for _, seg := range m.segments {
		if seg.State.Healthy() || seg.To <= seg.From {
			continue
		}
		s, vs := m.judgeSegment(len(d.Segments)+1, seg, byNode, violations)
		d.Segments = append(d.Segments, s)
		segSpans = append(segSpans, span{seg.From, seg.To})
		violations = append(violations, vs...)
	}
	restores, vs := m.restores(clientPairs)
	d.Restores = restores
	violations = append(violations, vs...)
	final, vs, unjudged := m.finalRecovery(h)
	d.FinalRecovery = final
	violations = append(violations, vs...)
	sortViolations(violations)
	for i, w := range faultSpans(h) {
		win := m.judgeWindow(i+1, w, d.Segments, segSpans, violations, last)
		d.Windows = append(d.Windows, win)
		d.Headline.add(win)
	}
	for i := range violations {
		for _, w := range d.Windows {
			at := violations[i].at
			if w.Judged && at >= time.Duration(w.InForceS*float64(time.Second)) && at < time.Duration(w.EndS*float64(time.Second)) {
				violations[i].Window = w.Number
				break
			}
		}
	}
	for _, s := range d.Segments {
		d.Headline.addSegment(s)
	}
	for _, r := range d.Restores {
		d.Headline.QuorumRestoreS = maxPtr(d.Headline.QuorumRestoreS, r.ServedS)
	}
	for _, r := range d.FinalRecovery {
		d.Headline.RecoveryS = maxPtr(d.Headline.RecoveryS, r.Seconds)
	}
	d.Headline.Violations = len(violations)
	for _, v := range violations[:min(len(violations), maxViolations)] {
		d.Violations = append(d.Violations, v.Violation)
	}
	for _, n := range unjudged {
		d.Unjudged = append(d.Unjudged, "recovery of "+n+" after the final heal (no op was tried on it)")
	}
	d.Outages, d.Headline.WriteAvailability = outages(clientPairs, cfg)
	valid := harness.ValidTrue
	switch {
	case len(violations) > 0:
		valid = harness.ValidFalse
	case len(d.Unjudged) > 0:
		valid = harness.ValidUnknown
	}
	return harness.Result{Valid: valid, Summary: summarize(d, cfg), Details: d}
}

// add folds a window's count into the headline.
func (hl *Headline) add(w Window) {
	hl.Windows++
	if w.Judged {
		hl.Judged++
	}
	if hl.Met == nil {
		hl.Met = new(int)
	}
	if w.Met != nil && *w.Met {
		*hl.Met++
	}
	for _, r := range w.Recovery {
		hl.RecoveryS = maxPtr(hl.RecoveryS, r.Seconds)
	}
}

// addSegment folds a segment's figures into the headline.
func (hl *Headline) addSegment(s Segment) {
	for _, side := range s.Sides {
		switch side.Role {
		case RoleMajority:
			hl.ElectionGapS = maxPtr(hl.ElectionGapS, side.ElectionGapS)
			hl.MajorityGapS = maxPtr(hl.MajorityGapS, side.LongestWriteGapS)
		case RoleMinority, RoleDown:
			hl.MinorityLinearizableOK += side.LinearizableOKAfterGrace
			hl.MinoritySerializableReads += side.SerializableReadsOK
			hl.MinorityOK += side.OK
		}
	}
}

// outages finds the spans of the whole run in which clients waited and no
// write was accepted, and the fraction of the run outside them.
func outages(pairs []harness.Pair, cfg Config) ([]Outage, float64) {
	if len(pairs) == 0 {
		return []Outage{}, 1
	}
	from, to := pairs[0].Invoke.Time, pairs[0].Invoke.Time
	var accepted []time.Duration
	for _, p := range pairs {
		from = min(from, p.Invoke.Time)
		if p.Completion != nil {
			to = max(to, p.Completion.Time)
			if p.Completion.Type == harness.OK && cfg.isWrite(p.Invoke.F) {
				accepted = append(accepted, p.Completion.Time)
			}
		}
	}
	out := []Outage{}
	var down time.Duration
	for _, g := range writeGaps(busyOf(pairs, to), accepted, from, to) {
		if g.to-g.from >= cfg.OutageThreshold {
			out = append(out, Outage{FromS: roundSeconds(g.from), ToS: roundSeconds(g.to)})
			down += g.to - g.from
		}
	}
	if to <= from {
		return out, 1
	}
	return out, 1 - float64(down)/float64(to-from)
}

func maxPtr(a, b *float64) *float64 {
	if b == nil || (a != nil && *a >= *b) {
		return a
	}
	v := *b
	return &v
}

func fmtSeconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
