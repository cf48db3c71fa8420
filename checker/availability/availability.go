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
	// GraceS, MajorityGapBoundS and ElectionTimeoutS are the parameters
	// the verdict was reached with.
	GraceS            float64 `json:"grace_s"`
	MajorityGapBoundS float64 `json:"majority_gap_bound_s"`
	ElectionTimeoutS  float64 `json:"election_timeout_s"`
	// Serializable says reads were exempt from the minority rule.
	Serializable bool `json:"serializable"`
	// Windows are the fault windows, in the order they began.
	Windows []Window `json:"windows"`
	// Outages are the spans of the run, longer than the outage threshold,
	// in which clients waited and the cluster accepted no write.
	Outages []Outage `json:"outages"`
	// Violations are the first few ops or gaps that broke a rule.
	Violations []Violation `json:"violations,omitempty"`
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
	// MinorityLinearizableOK counts linearizable ops a side without a
	// majority answered ok after the grace period: each is a violation.
	MinorityLinearizableOK int `json:"minority_linearizable_ok"`
	// MinoritySerializableReads counts serializable reads a side without a
	// majority answered ok after the grace period.
	MinoritySerializableReads int `json:"minority_serializable_reads"`
	// MinorityOK counts every op a minority side answered ok while the
	// fault was in force, grace period included.
	MinorityOK int `json:"minority_ok"`
	// RecoveryS is the longest recovery of a cut-off node after a heal.
	RecoveryS *float64 `json:"recovery_s"`
	// Judged and Windows count the fault windows judged and seen; Met
	// counts the judged windows whose expectation was met (nil in results
	// written before it was counted).
	Judged  int  `json:"judged"`
	Windows int  `json:"windows"`
	Met     *int `json:"met"`
	// Violations counts every violation of either rule.
	Violations int `json:"violations"`
}

// Outage is a span in which the cluster accepted no write.
type Outage struct {
	FromS float64 `json:"from_s"`
	ToS   float64 `json:"to_s"`
}

// Violation is one op or gap that broke a rule.
type Violation struct {
	// Window is the number of the fault window.
	Window int `json:"window"`
	// Rule is "minority" or "majority".
	Rule string `json:"rule"`
	// Node is the client's node (or the failover label).
	Node string `json:"node,omitempty"`
	// Op is the invocation index of the offending op, -1 for a gap.
	Op int `json:"op"`
	// Message says what happened, with times.
	Message string `json:"message"`
}

// Check judges h. It writes nothing to out.
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
		ElectionTimeoutS: roundSeconds(cfg.ElectionTimeout), Serializable: cfg.Serializable,
		Windows: []Window{}, Outages: []Outage{},
	}
	fs := faults(h)
	var last time.Duration
	if len(h) > 0 {
		last = h[len(h)-1].Time
	}
	var violations []Violation
	for i, f := range fs {
		w, vs := judgeWindow(i+1, f, byNode, cfg, fs[:i], fs[i+1:], last)
		d.Windows = append(d.Windows, w)
		violations = append(violations, vs...)
		d.Headline.add(w)
	}
	d.Headline.Violations = len(violations)
	d.Violations = violations[:min(len(violations), maxViolations)]
	d.Outages, d.Headline.WriteAvailability = outages(clientPairs, cfg)
	valid := harness.ValidTrue
	if len(violations) > 0 {
		valid = harness.ValidFalse
	}
	return harness.Result{Valid: valid, Summary: summarize(d, cfg), Details: d}
}

// add folds a window's figures into the headline.
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
	for _, s := range w.Sides {
		switch s.Role {
		case RoleMajority:
			hl.ElectionGapS = maxPtr(hl.ElectionGapS, s.ElectionGapS)
			hl.MajorityGapS = maxPtr(hl.MajorityGapS, s.LongestWriteGapS)
		case RoleMinority:
			hl.MinorityLinearizableOK += s.LinearizableOKAfterGrace
			hl.MinoritySerializableReads += s.SerializableReadsOK
			hl.MinorityOK += s.OK
		}
	}
	for _, r := range w.Recovery {
		hl.RecoveryS = maxPtr(hl.RecoveryS, r.Seconds)
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
