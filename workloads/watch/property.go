package watch

import (
	"fmt"
	"sort"

	"github.com/faultline/faultline/harness"
)

// The guarantees etcd makes of watches (etcd.io, "API guarantees"), as
// the checker names them.
const (
	Ordered      = "Ordered"
	Unique       = "Unique"
	Atomic       = "Atomic"
	Bookmarkable = "Bookmarkable"
	Reliable     = "Reliable"
	Resumable    = "Resumable"
	PrevKV       = "PrevKV"
	Filter       = "Filter"
)

// Properties lists them in the order the checker reports them.
var Properties = []string{Ordered, Unique, Atomic, Bookmarkable, Reliable, Resumable, PrevKV, Filter}

// Violation is one breach of a guarantee: by which watch (or write), in
// which op, at which revision.
type Violation struct {
	Property string `json:"property"`
	// Kind names the anomaly: gap, duplicate, out-of-order, lost, ...
	Kind string `json:"kind"`
	// Watcher names the watch ("p3 session 7 watch 0 on n2", "final op
	// 120 on n1 page 2") or, for a write, the write.
	Watcher string `json:"watcher"`
	// Op is the index of the op that delivered the event at fault (the
	// write's own, for a lost write).
	Op       int    `json:"op"`
	Revision int64  `json:"revision"`
	Key      string `json:"key,omitempty"`
	Detail   string `json:"detail"`
}

// String renders v for a summary line.
func (v Violation) String() string {
	key := ""
	if v.Key != "" {
		key = " key " + v.Key
	}
	return fmt.Sprintf("%s, op %d, revision %d%s: %s: %s", v.Watcher, v.Op, v.Revision, key, v.Kind, v.Detail)
}

// PropertyResult is the verdict on one guarantee.
type PropertyResult struct {
	Name  string        `json:"name"`
	Valid harness.Valid `json:"valid"`
	// Judged says what was judged, e.g. "44 watches, 4321 events".
	Judged string `json:"judged,omitempty"`
	// Reason says why it could not be judged (Valid unknown).
	Reason string `json:"reason,omitempty"`
	// Violations counts breaches (at most one per watch and kind of
	// anomaly; one per lost write), by kind.
	Violations int            `json:"violations"`
	Kinds      map[string]int `json:"kinds,omitempty"`
	// First is the earliest breach, by op index; Examples the first
	// maxExamples.
	First    *Violation  `json:"first,omitempty"`
	Examples []Violation `json:"examples,omitempty"`
}

// maxExamples bounds the violations kept per guarantee.
const maxExamples = 20

// judgement gathers one guarantee's violations and what it judged.
type judgement struct {
	name       string
	violations []Violation
	seen       map[string]bool
	units      int
}

func newJudgement(name string) *judgement {
	return &judgement{name: name, seen: map[string]bool{}}
}

// flag records v, unless the watch or write named by id already has a
// violation of its kind (a watch that broke a guarantee once usually
// keeps breaking it); an empty id records every one.
func (j *judgement) flag(id string, v Violation) {
	if id != "" {
		id += "\x00" + v.Kind
		if j.seen[id] {
			return
		}
		j.seen[id] = true
	}
	v.Property = j.name
	j.violations = append(j.violations, v)
}

// result is the verdict: false with a violation; unknown with reason
// when nothing was judged (units == 0) or reason is set; true otherwise.
func (j *judgement) result(judged, reason string) PropertyResult {
	r := PropertyResult{Name: j.name, Valid: harness.ValidTrue, Judged: judged, Violations: len(j.violations)}
	if len(j.violations) > 0 {
		sort.SliceStable(j.violations, func(a, b int) bool {
			va, vb := j.violations[a], j.violations[b]
			if va.Op != vb.Op {
				return va.Op < vb.Op
			}
			return va.Revision < vb.Revision
		})
		r.Valid = harness.ValidFalse
		r.Kinds = map[string]int{}
		for _, v := range j.violations {
			r.Kinds[v.Kind]++
		}
		first := j.violations[0]
		r.First = &first
		r.Examples = j.violations[:min(len(j.violations), maxExamples)]
		return r
	}
	if reason != "" {
		r.Valid, r.Reason = harness.ValidUnknown, reason
	}
	return r
}
