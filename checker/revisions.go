package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/faultline/faultline/harness"
)

// maxRevisionViolations bounds the violations listed; all are counted.
const maxRevisionViolations = 20

// Revisions holds a store to what etcd promises about revisions, read off
// the revisions each op recorded (harness.Op.Revision, ModRevision), as
// Jepsen's versioned register does:
//
//   - monotonic: revisions never go back in real time: an op invoked after
//     another completed sees a revision at least as high (serializable
//     reads may be stale and are exempt);
//   - unique: two acknowledged writes never share a revision (a write is
//     one key here, so a revision is one write's);
//   - read-own-write: a read returns the mod revision of a write of the
//     value it read, and that revision is no higher than the read's own.
//
// A revision that goes back or is given twice is what a member that lost
// acknowledged writes, or applied an entry twice, shows its clients.
type Revisions struct {
	// Writes are the fs that write one key; every other f with a
	// ModRevision is a read.
	Writes []string
	// Serializable says reads were served locally and may be stale.
	Serializable bool
}

// RevisionViolation is one op that broke a revision rule.
type RevisionViolation struct {
	// Rule is monotonic, unique or read-own-write.
	Rule string `json:"rule"`
	// Op is the invocation index of the offending op; Other that of the op
	// it contradicts, -1 for none.
	Op    int `json:"op"`
	Other int `json:"other"`
	// Message says what happened.
	Message string `json:"message"`
}

// RevisionsDetails is what Revisions reports.
type RevisionsDetails struct {
	// Ops counts the ok ops that recorded a revision.
	Ops int `json:"ops"`
	// MaxRevision is the highest revision an acknowledged op saw.
	MaxRevision int64 `json:"max_revision"`
	// Count counts the violations; Violations lists the first.
	Count      int                 `json:"count"`
	Violations []RevisionViolation `json:"violations"`
}

// Name is "revisions".
func (Revisions) Name() string { return "revisions" }

// Check judges the revisions of h's client ops. A history in which no op
// recorded a revision is unknown: nothing was checked.
func (c Revisions) Check(_ context.Context, h harness.History, _ string) harness.Result {
	d := &RevisionsDetails{Violations: []RevisionViolation{}}
	var oks []harness.Pair
	type keyValue struct {
		key   string
		value string
	}
	writes := map[keyValue][]harness.Pair{} // ok and unknown writes of a value
	for _, p := range h.Client().Pairs() {
		if c.isWrite(p.Invoke.F) {
			v := string(p.Invoke.Value)
			if p.Invoke.F != "write" {
				v = newValue(p.Invoke.Value)
			}
			if p.Completion == nil || p.Completion.Type != harness.Fail {
				writes[keyValue{p.Invoke.Key, v}] = append(writes[keyValue{p.Invoke.Key, v}], p)
			}
		}
		if p.Completion != nil && p.Completion.Type == harness.OK && p.Completion.Revision > 0 {
			oks = append(oks, p)
			d.MaxRevision = max(d.MaxRevision, p.Completion.Revision)
		}
	}
	d.Ops = len(oks)
	add := func(v RevisionViolation) {
		d.Count++
		if len(d.Violations) < maxRevisionViolations {
			d.Violations = append(d.Violations, v)
		}
	}
	c.monotonic(oks, add)
	c.unique(oks, add)
	for _, p := range oks {
		comp := p.Completion
		if c.isWrite(p.Invoke.F) || comp.ModRevision == 0 {
			continue
		}
		if comp.ModRevision > comp.Revision {
			add(RevisionViolation{Rule: "read-own-write", Op: p.Invoke.Index, Other: -1, Message: fmt.Sprintf(
				"%s of %s (op %d) read a value written at revision %d, above its own revision %d", p.Invoke.F, p.Invoke.Key, p.Invoke.Index, comp.ModRevision, comp.Revision)})
			continue
		}
		candidates := writes[keyValue{p.Invoke.Key, string(comp.Value)}]
		matched, unknown := false, false
		var revs []int64
		for _, w := range candidates {
			switch {
			case w.Completion == nil || w.Completion.Type != harness.OK || w.Completion.ModRevision == 0:
				unknown = true
			case w.Completion.ModRevision == comp.ModRevision:
				matched = true
			default:
				revs = append(revs, w.Completion.ModRevision)
			}
		}
		if matched || unknown || len(candidates) == 0 {
			// An unknown write may have been the one; a value no write
			// made is the linearizability checker's to report.
			continue
		}
		add(RevisionViolation{Rule: "read-own-write", Op: p.Invoke.Index, Other: candidates[0].Invoke.Index, Message: fmt.Sprintf(
			"%s of %s (op %d, on %s) read %s at mod revision %d, but every write of %s was acknowledged at another revision (%v)",
			p.Invoke.F, p.Invoke.Key, p.Invoke.Index, p.Invoke.Node, comp.Value, comp.ModRevision, comp.Value, revs)})
	}
	valid := harness.ValidTrue
	summary := []string{fmt.Sprintf("revisions: %d ops recorded a revision, the highest %d; %d violations", d.Ops, d.MaxRevision, d.Count)}
	switch {
	case d.Count > 0:
		valid = harness.ValidFalse
		for _, v := range d.Violations {
			summary = append(summary, fmt.Sprintf("  %s: %s", v.Rule, v.Message))
		}
	case d.Ops == 0:
		valid = harness.ValidUnknown
		summary = append(summary, "  unknown: no op recorded a revision")
	}
	return harness.Result{Valid: valid, Summary: summary, Details: d}
}

func (c Revisions) isWrite(f string) bool { return slices.Contains(c.Writes, f) }

// monotonic finds ops that saw a revision lower than one an op completed
// before they were invoked had seen.
func (c Revisions) monotonic(oks []harness.Pair, add func(RevisionViolation)) {
	var ops []harness.Pair
	for _, p := range oks {
		if c.Serializable && !c.isWrite(p.Invoke.F) {
			continue
		}
		ops = append(ops, p)
	}
	byCompletion := slices.Clone(ops)
	sort.Slice(byCompletion, func(i, j int) bool { return byCompletion[i].Completion.Time < byCompletion[j].Completion.Time })
	byInvoke := slices.Clone(ops)
	sort.Slice(byInvoke, func(i, j int) bool { return byInvoke[i].Invoke.Time < byInvoke[j].Invoke.Time })
	var best *harness.Pair
	next := 0
	for _, p := range byInvoke {
		for next < len(byCompletion) && byCompletion[next].Completion.Time < p.Invoke.Time {
			q := byCompletion[next]
			if best == nil || q.Completion.Revision > best.Completion.Revision {
				best = &byCompletion[next]
			}
			next++
		}
		if best != nil && p.Completion.Revision < best.Completion.Revision {
			add(RevisionViolation{Rule: "monotonic", Op: p.Invoke.Index, Other: best.Invoke.Index, Message: fmt.Sprintf(
				"%s of %s (op %d, on %s) invoked at %s saw revision %d, but %s of %s (op %d, on %s) had seen %d by %s: the revision went back",
				p.Invoke.F, p.Invoke.Key, p.Invoke.Index, p.Invoke.Node, fmtS(p.Invoke.Time), p.Completion.Revision,
				best.Invoke.F, best.Invoke.Key, best.Invoke.Index, best.Invoke.Node, best.Completion.Revision, fmtS(best.Completion.Time))})
		}
	}
}

// unique finds acknowledged writes that share a revision.
func (c Revisions) unique(oks []harness.Pair, add func(RevisionViolation)) {
	first := map[int64]harness.Pair{}
	for _, p := range oks {
		if !c.isWrite(p.Invoke.F) || p.Completion.ModRevision == 0 {
			continue
		}
		r := p.Completion.ModRevision
		if q, seen := first[r]; seen {
			add(RevisionViolation{Rule: "unique", Op: p.Invoke.Index, Other: q.Invoke.Index, Message: fmt.Sprintf(
				"%s of %s (op %d, on %s) and %s of %s (op %d, on %s) were both acknowledged at revision %d",
				p.Invoke.F, p.Invoke.Key, p.Invoke.Index, p.Invoke.Node, q.Invoke.F, q.Invoke.Key, q.Invoke.Index, q.Invoke.Node, r)})
			continue
		}
		first[r] = p
	}
}

// newValue is the value a compare-and-set of [old, new] writes, as JSON.
func newValue(raw []byte) string {
	var pair []any
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		return ""
	}
	b, _ := json.Marshal(pair[1])
	return string(b)
}

func fmtS(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
