package watch

import (
	"fmt"
	"strconv"

	"github.com/faultline/faultline/harness"
)

// judgeValues judges every event w delivered against the reference and
// the writes (Reliable): the event the history has at its revision and
// key (unknown-event when the revision's events are known whole and it
// is not one, wrong-value when it has another), and the write it comes
// from: a put's value must have been put (unknown-value), to its key
// (wrong-key), by a write that did not fail (failed-write), acknowledged
// at its revision if acknowledged (revision-mismatch); a delete must be
// explained by a delete of its key that did not fail
// (unexplained-delete).
func judgeValues(j *judgement, w *watchRec, ref *reference, rec *record, deletes map[string][]*writeOp) {
	for _, d := range w.events {
		at := func(kind, format string, args ...any) {
			j.flag(w.name, Violation{Kind: kind, Watcher: w.name, Op: d.op, Revision: d.Revision, Key: d.Key, Detail: fmt.Sprintf(format, args...)})
		}
		rr := ref.revs[d.Revision]
		want, ok := rr.events[d.Key]
		switch {
		case !ok:
			at("unknown-event", "%s at revision %d, which has no event on %s in the history (%s)", describe(d.Event), d.Revision, d.Key, rr.source)
			continue
		case want.Type != d.Type || want.Value != d.Value:
			at("wrong-value", "%s at revision %d, where the history (%s) has %s", describe(d.Event), d.Revision, rr.source, describe(want))
			continue
		}
		if d.Type == TypeDelete {
			if rr.write == nil && !explained(d.Event, deletes[d.Key]) {
				at("unexplained-delete", "a delete of %s at revision %d, though no delete of %s that did not fail could have made it", d.Key, d.Revision, d.Key)
			}
			continue
		}
		v, err := strconv.Atoi(d.Value)
		wr := rec.puts[v]
		switch {
		case err != nil || wr == nil:
			at("unknown-value", "value %q at revision %d was never written", d.Value, d.Revision)
		case putKey(wr, v) != d.Key:
			at("wrong-key", "value %d on %s at revision %d was written to %s by %s", v, d.Key, d.Revision, putKey(wr, v), wr.name())
		case wr.outcome == harness.Fail:
			at("failed-write", "value %d at revision %d comes from %s, which failed", v, d.Revision, wr.name())
		case wr.outcome == harness.OK && wr.revision != d.Revision:
			at("revision-mismatch", "value %d at revision %d, but %s was acknowledged at revision %d", v, d.Revision, wr.name(), wr.revision)
		}
	}
}

// explained says whether a delete event could come from one of the
// deletes of its key: one that did not fail and, if acknowledged, was
// acknowledged at its revision.
func explained(e Event, deletes []*writeOp) bool {
	for _, w := range deletes {
		if w.outcome == harness.Info || (w.outcome == harness.OK && w.revision == e.Revision) {
			return true
		}
	}
	return false
}

// putKey is the key write w put value v to.
func putKey(w *writeOp, v int) string {
	for _, m := range w.muts {
		if m.Type == TypePut && m.Value == v {
			return m.Key
		}
	}
	return ""
}

// describe renders an event for messages: "PUT k1=17", "DELETE k2".
func describe(e Event) string {
	if e.Type == TypeDelete {
		return "DELETE " + e.Key
	}
	return fmt.Sprintf("PUT %s=%s", e.Key, e.Value)
}

// judgeGaps judges that w delivered every event of the reference it
// watches within its span (see watchRec.span): a missed one is a gap,
// under Reliable for a watch with no filter, under Filter (filtered-out)
// for one whose filter lets the event through. It reports whether w
// had a span.
func judgeGaps(rel, filt *judgement, w *watchRec, ref *reference) bool {
	first, last, ok := w.span()
	if !ok {
		return false
	}
	got := map[string]bool{}
	for _, d := range w.events {
		got[eventID(d.Revision, d.Key)] = true
	}
	for _, r := range ref.between(first, last) {
		rr := ref.revs[r]
		for _, k := range ref.keys {
			e, ok := rr.events[k]
			if !ok || !w.matches(k, e.Type) || got[eventID(r, k)] {
				continue
			}
			v := Violation{Watcher: w.name, Op: opAfter(w, r), Revision: r, Key: k}
			if w.spec.Filter == "" {
				v.Kind = "gap"
				v.Detail = fmt.Sprintf("missed %s at revision %d (%s), between revisions %d and %d it delivered", describe(e), r, rr.source, first, last)
				rel.flag(w.name, v)
			} else {
				v.Kind = "filtered-out"
				v.Detail = fmt.Sprintf("missed %s at revision %d (%s), which its filter %s lets through, between revisions %d and %d it delivered", describe(e), r, rr.source, w.spec.Filter, first, last)
				filt.flag(w.name, v)
			}
		}
	}
	return true
}

func eventID(rev int64, key string) string { return strconv.FormatInt(rev, 10) + "\x00" + key }

// opAfter is the op that delivered w's first event past revision r, or
// its last op.
func opAfter(w *watchRec, r int64) int {
	for _, d := range w.events {
		if d.Revision > r {
			return d.op
		}
	}
	return w.responses[len(w.responses)-1].op
}

// judgeLost looks for every acknowledged write in every complete final
// watch's replay (Reliable): one acknowledged above the revision the
// final read returned, or within the replay (from its first page, or from
// the page after the last compaction cancel) and missing from it, is
// lost. It returns how many writes it could look for, and why it could
// look for none.
func judgeLost(j *judgement, rec *record) (checked int, reason string) {
	var complete []*finalRec
	for _, f := range rec.finals {
		if f.complete {
			complete = append(complete, f)
		}
	}
	if len(complete) == 0 {
		return 0, fmt.Sprintf("no final watch completed (%s): acknowledged writes were never looked for in a replay", finalsBrief(rec.finals))
	}
	okWrites := 0
	looked := map[*writeOp]bool{}
	for _, f := range complete {
		from, seen := replayed(f)
		for _, w := range rec.writes {
			evs := w.changes()
			if w.outcome != harness.OK || len(evs) == 0 {
				continue
			}
			if w.revision < from {
				continue
			}
			looked[w] = true
			lost := func(format string, args ...any) {
				j.flag(w.name(), Violation{Kind: "lost", Watcher: f.name(), Op: w.op, Revision: w.revision, Detail: fmt.Sprintf(format, args...)})
			}
			if w.revision > f.target {
				lost("%s was acknowledged at revision %d, above the revision %d the final read on %s returned", w.name(), w.revision, f.target, f.node)
				continue
			}
			for _, e := range evs {
				if !seen[eventID(e.Revision, e.Key)] {
					lost("%s (%s) was acknowledged at revision %d, and the replay of %s from revision %d to %d does not have it", w.name(), describe(e), w.revision, f.name(), from, f.target)
					break
				}
			}
		}
	}
	for _, w := range rec.writes {
		if w.outcome == harness.OK && len(w.changes()) > 0 {
			okWrites++
		}
	}
	if len(looked) == 0 && okWrites > 0 {
		return 0, fmt.Sprintf("none of the %d acknowledged writes is within a complete final replay (compacted away)", okWrites)
	}
	return len(looked), ""
}

// replayed returns where f's replay vouches for every revision from (its
// first page's start, or the start of the page after its last
// compaction cancel) and the events it delivered.
func replayed(f *finalRec) (int64, map[string]bool) {
	seen := map[string]bool{}
	var from int64
	for i, p := range f.pages {
		if i == 0 {
			from = p.from
		}
		for _, r := range p.responses {
			if r.CompactRevision > 0 && i+1 < len(f.pages) {
				from = f.pages[i+1].from
			}
		}
		for _, d := range p.events {
			seen[eventID(d.Revision, d.Key)] = true
		}
	}
	return from, seen
}

// finalsBrief says what became of each final watch.
func finalsBrief(fs []*finalRec) string {
	if len(fs) == 0 {
		return "there was none"
	}
	s := ""
	for i, f := range fs {
		if i > 0 {
			s += "; "
		}
		s += f.name() + ": " + f.outcome()
	}
	return s
}

// outcome says what became of f.
func (f *finalRec) outcome() string {
	switch {
	case f.failed != "":
		return "failed: " + f.failed
	case f.complete:
		return fmt.Sprintf("complete to revision %d in %s", f.target, harness.Count(len(f.pages), "page"))
	}
	return fmt.Sprintf("incomplete (target revision %d): %s", f.target, f.err)
}
