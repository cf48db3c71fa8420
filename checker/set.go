package checker

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/harness"
)

// Set judges a grow-only set: processes add unique integer elements, and
// after the cluster has healed, final reads return every element present.
// The set and lock workloads use it, and anything else with the same
// shape can: adds carry the element as their value, a final read completes
// with a JSON list of the elements it found.
//
// Each element's add ends ok, fail or info (an unfinished add counts as
// info), and the final reads say whether it is present. The checker sorts
// every element into one fate:
//
//   - lost: acknowledged (ok), absent from every ok final read. A store
//     must never do this.
//   - unexpected: present, but no add of it was ever invoked.
//   - failed-present: present, though its add failed, which claims it
//     certainly did not happen.
//   - recovered: its add was info and it is present: it did happen.
//   - absent: its add was info and it is absent: it did not happen. Neither
//     recovered nor absent is an anomaly: an info op may go either way.
//
// And it judges each final read on its own: a read is stale when it lacks
// an element that some final read contains and that was either
// acknowledged before the read began or returned by a final read that
// completed before it began. A linearizable read can miss neither. An
// element listed twice in one read is duplicated.
//
// Verdict: false on any lost, unexpected, failed-present, duplicated
// element or stale read; unknown when no final read succeeded (nothing
// can be said of what survived); true otherwise.
type Set struct {
	// Title is the checker's name in results.json; default "set".
	Title string
	// AddF is the f of adds; default "add".
	AddF string
	// ReadF is the f of final reads; default "final-read".
	ReadF string
}

// Name is Title, or "set".
func (s Set) Name() string { return orDefault(s.Title, "set") }

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// SetExample is one element in a report, with the index of the op that
// added it, or -1 when no add of it was invoked.
type SetExample struct {
	Element int `json:"element"`
	Op      int `json:"op"`
}

// SetGroup is a count of elements with up to maxExamples of them.
type SetGroup struct {
	Count    int          `json:"count"`
	Examples []SetExample `json:"examples,omitempty"`
}

// StaleRead is a final read that missed elements it had to see.
type StaleRead struct {
	// Op is the read's invocation index, Node where it ran.
	Op   int    `json:"op"`
	Node string `json:"node"`
	// Missing counts what it missed; Examples lists some of it.
	Missing  int   `json:"missing"`
	Examples []int `json:"examples"`
}

// SetDetails is what the set checker reports in results.json.
type SetDetails struct {
	// Adds counts add invocations by outcome.
	Adds Counts `json:"adds"`
	// FinalReads counts final reads by outcome.
	FinalReads Counts `json:"final_reads"`
	// Present is the number of distinct elements in the union of the ok
	// final reads.
	Present int `json:"present"`
	// The fates of elements; see Set.
	Lost          SetGroup `json:"lost"`
	Unexpected    SetGroup `json:"unexpected"`
	FailedPresent SetGroup `json:"failed_present"`
	Duplicated    SetGroup `json:"duplicated"`
	Recovered     SetGroup `json:"recovered"`
	Absent        SetGroup `json:"absent"`
	// StaleReads lists the stale final reads in history order.
	StaleReads []StaleRead `json:"stale_reads,omitempty"`
}

const maxExamples = 10

func (g *SetGroup) add(e SetExample) {
	g.Count++
	if len(g.Examples) < maxExamples {
		g.Examples = append(g.Examples, e)
	}
}

// addRecord is what the checker knows of one element's add.
type addRecord struct {
	invoke  int // invocation index
	outcome harness.Type
	done    int // completion index, or -1 if unfinished or not ok
}

// finalRead is one ok final read.
type finalRead struct {
	invoke, done int
	node         string
	elements     map[int]bool
}

// Check judges h. It writes nothing to out.
func (s Set) Check(_ context.Context, h harness.History, _ string) harness.Result {
	addF, readF := orDefault(s.AddF, "add"), orDefault(s.ReadF, "final-read")
	d := &SetDetails{}
	adds := map[int]*addRecord{}
	var reads []finalRead
	for _, p := range h.Pairs() {
		if !p.Invoke.IsClient() {
			continue
		}
		switch p.Invoke.F {
		case addF:
			d.Adds.Add(p)
			var e int
			if err := p.Invoke.DecodeValue(&e); err != nil {
				return undecodable(s.Name(), err)
			}
			rec := &addRecord{invoke: p.Invoke.Index, outcome: harness.Info, done: -1}
			if p.Completion != nil && p.Completion.Type != harness.Info {
				rec.outcome = p.Completion.Type
				if rec.outcome == harness.OK {
					rec.done = p.Completion.Index
				}
			}
			if prev, dup := adds[e]; dup {
				// Elements are unique per add; a second add of the same
				// element keeps the strongest claim: ok over info over fail.
				if rank(rec.outcome) < rank(prev.outcome) {
					continue
				}
			}
			adds[e] = rec
		case readF:
			d.FinalReads.Add(p)
			if p.Completion == nil || p.Completion.Type != harness.OK {
				continue
			}
			var list []int
			if err := p.Completion.DecodeValue(&list); err != nil {
				return undecodable(s.Name(), err)
			}
			r := finalRead{invoke: p.Invoke.Index, done: p.Completion.Index, node: p.Completion.Node, elements: map[int]bool{}}
			for _, e := range list {
				if r.elements[e] {
					d.Duplicated.add(SetExample{Element: e, Op: p.Invoke.Index})
				}
				r.elements[e] = true
			}
			reads = append(reads, r)
		}
	}
	if len(reads) == 0 {
		return harness.Result{
			Valid:   harness.ValidUnknown,
			Summary: []string{fmt.Sprintf("%s: %d adds (%s), but no final read succeeded (%s): what survived is unknown", s.Name(), d.Adds.Total(), d.Adds, d.FinalReads)},
			Details: d,
		}
	}
	present := map[int]bool{}
	for _, r := range reads {
		for e := range r.elements {
			present[e] = true
		}
	}
	d.Present = len(present)
	s.fates(d, adds, present)
	d.StaleReads = staleReads(reads, adds, present)

	valid := harness.ValidTrue
	if d.Lost.Count+d.Unexpected.Count+d.FailedPresent.Count+d.Duplicated.Count+len(d.StaleReads) > 0 {
		valid = harness.ValidFalse
	}
	return harness.Result{Valid: valid, Summary: s.summary(d), Details: d}
}

// rank orders outcomes by how strongly they claim the add happened.
func rank(t harness.Type) int {
	switch t {
	case harness.OK:
		return 2
	case harness.Info:
		return 1
	}
	return 0
}

// fates sorts every element into its fate, in element order so that the
// examples are deterministic.
func (s Set) fates(d *SetDetails, adds map[int]*addRecord, present map[int]bool) {
	for _, e := range sortedKeys(adds) {
		a := adds[e]
		ex := SetExample{Element: e, Op: a.invoke}
		switch {
		case a.outcome == harness.OK && !present[e]:
			d.Lost.add(ex)
		case a.outcome == harness.Fail && present[e]:
			d.FailedPresent.add(ex)
		case a.outcome == harness.Info && present[e]:
			d.Recovered.add(ex)
		case a.outcome == harness.Info:
			d.Absent.add(ex)
		}
	}
	for _, e := range sortedKeys(present) {
		if _, ok := adds[e]; !ok {
			d.Unexpected.add(SetExample{Element: e, Op: -1})
		}
	}
}

// staleReads finds the final reads that miss an element present in some
// final read that was acknowledged, or read by an earlier final read,
// before they began.
func staleReads(reads []finalRead, adds map[int]*addRecord, present map[int]bool) []StaleRead {
	var out []StaleRead
	for i, r := range reads {
		var missing []int
		for _, e := range sortedKeys(present) {
			if r.elements[e] {
				continue
			}
			if a, ok := adds[e]; ok && a.done >= 0 && a.done < r.invoke {
				missing = append(missing, e)
				continue
			}
			for _, earlier := range reads[:i] {
				if earlier.done < r.invoke && earlier.elements[e] {
					missing = append(missing, e)
					break
				}
			}
		}
		if len(missing) > 0 {
			out = append(out, StaleRead{Op: r.invoke, Node: r.node, Missing: len(missing), Examples: missing[:min(len(missing), maxExamples)]})
		}
	}
	return out
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

func (s Set) summary(d *SetDetails) []string {
	lines := []string{
		fmt.Sprintf("%s: %d adds: %d ok, %d fail, %d info (%d recovered, %d absent); final reads %s; %d elements present",
			s.Name(), d.Adds.Total(), d.Adds.OK, d.Adds.Fail, d.Adds.Info+d.Adds.Unfinished, d.Recovered.Count, d.Absent.Count, d.FinalReads, d.Present),
	}
	anomaly := func(g SetGroup, what string) {
		if g.Count > 0 {
			lines = append(lines, fmt.Sprintf("  %s: %s, e.g. %s", what, harness.Count(g.Count, "element"), examples(g.Examples)))
		}
	}
	anomaly(d.Lost, "lost (acknowledged, absent from every final read)")
	anomaly(d.Unexpected, "unexpected (present, never added)")
	anomaly(d.FailedPresent, "failed-present (add failed, yet present)")
	anomaly(d.Duplicated, "duplicated (listed twice by one read)")
	for _, r := range d.StaleReads {
		lines = append(lines, fmt.Sprintf("  stale final read: op %d on %s misses %s acknowledged or read before it began, e.g. %s",
			r.Op, r.Node, harness.Count(r.Missing, "element"), ints(r.Examples)))
	}
	if len(lines) == 1 {
		lines = append(lines, "  no element lost, unexpected or stale")
	}
	return lines
}

func examples(es []SetExample) string {
	parts := make([]string, len(es))
	for i, e := range es {
		if e.Op < 0 {
			parts[i] = fmt.Sprint(e.Element)
		} else {
			parts[i] = fmt.Sprintf("%d (op %d)", e.Element, e.Op)
		}
	}
	return strings.Join(parts, ", ")
}

func ints(es []int) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = fmt.Sprint(e)
	}
	return strings.Join(parts, ", ")
}

// undecodable is the result for a history a checker cannot read: unknown,
// since a history it cannot decode proves nothing either way.
func undecodable(name string, err error) harness.Result {
	return harness.Result{
		Valid:   harness.ValidUnknown,
		Summary: []string{fmt.Sprintf("%s: cannot judge a malformed history: %v", name, err)},
	}
}
