package watch

import (
	"fmt"
	"sort"

	"github.com/faultline/faultline/harness"
)

// refRevision is what the reference history knows of one revision.
type refRevision struct {
	// events are the revision's events by key.
	events map[string]Event
	// whole says events are every event of the revision: they come from
	// the write acknowledged at it, or from a watch of the whole prefix
	// with no filter.
	whole bool
	// source says where they come from, for messages.
	source string
	// write is the ok write acknowledged at the revision, if any.
	write *writeOp
}

// reference is the history every watch is judged against. Its sources,
// first come first served: the acknowledged writes (a write acknowledged
// at revision R made R's events), then the final watches' replays, then
// the live watches of the whole prefix with no filter, then every other
// watch. What a later source says of a revision an earlier one gave
// whole is not taken in: it is judged.
type reference struct {
	revs  map[int64]*refRevision
	order []int64
	// byKey lists the revisions with an event on each key, in order.
	byKey map[string][]int64
	// keys are every key a write or an event names.
	keys []string
	// cover holds, by key, the revisions at which every event of the key
	// is known; filled by coverWith.
	cover map[string]*spans
	start int64
}

// buildReference builds the reference of rec; revisions whose events
// start past start. Two writes acknowledged at one revision are Reliable
// violations.
func buildReference(rec *record, start int64) (*reference, []Violation) {
	ref := &reference{revs: map[int64]*refRevision{}, byKey: map[string][]int64{}, cover: map[string]*spans{}, start: start}
	keys := map[string]bool{}
	var shared []Violation
	for _, w := range rec.writes {
		for _, m := range w.muts {
			keys[m.Key] = true
		}
		if w.outcome != harness.OK {
			continue
		}
		evs := w.changes()
		if len(evs) == 0 {
			continue
		}
		if prev := ref.revs[w.revision]; prev != nil {
			shared = append(shared, Violation{Property: Reliable, Kind: "shared-revision", Watcher: w.name(), Op: w.op, Revision: w.revision,
				Detail: fmt.Sprintf("%s and %s were both acknowledged at revision %d", prev.write.name(), w.name(), w.revision)})
			continue
		}
		rr := &refRevision{events: map[string]Event{}, whole: true, source: w.name(), write: w}
		for _, e := range evs {
			rr.events[e.Key] = e
		}
		ref.revs[w.revision] = rr
	}
	for _, w := range sourcesInOrder(rec.watches) {
		for _, d := range w.events {
			keys[d.Key] = true
			rr := ref.revs[d.Revision]
			if rr == nil {
				rr = &refRevision{events: map[string]Event{}, whole: w.whole(), source: w.name}
				ref.revs[d.Revision] = rr
			} else if rr.whole && rr.source != w.name {
				continue
			}
			if _, ok := rr.events[d.Key]; !ok {
				e := d.Event
				e.PrevValue, e.PrevRevision = nil, 0
				rr.events[d.Key] = e
			}
		}
	}
	for r := range ref.revs {
		ref.order = append(ref.order, r)
	}
	sort.Slice(ref.order, func(i, j int) bool { return ref.order[i] < ref.order[j] })
	for _, r := range ref.order {
		for k := range ref.revs[r].events {
			ref.byKey[k] = append(ref.byKey[k], r)
		}
	}
	for k := range keys {
		ref.keys = append(ref.keys, k)
		ref.cover[k] = &spans{}
	}
	sort.Strings(ref.keys)
	return ref, shared
}

// sourcesInOrder orders the watches as sources of the reference: final
// pages, then whole live watches, then the rest, each in history order.
func sourcesInOrder(ws []*watchRec) []*watchRec {
	var finals, whole, rest []*watchRec
	for _, w := range ws {
		switch {
		case w.final:
			finals = append(finals, w)
		case w.whole():
			whole = append(whole, w)
		default:
			rest = append(rest, w)
		}
	}
	return append(append(finals, whole...), rest...)
}

// between returns the reference's revisions in [a, b].
func (ref *reference) between(a, b int64) []int64 {
	i := sort.Search(len(ref.order), func(i int) bool { return ref.order[i] >= a })
	j := sort.Search(len(ref.order), func(i int) bool { return ref.order[i] > b })
	if i >= j {
		return nil
	}
	return ref.order[i:j]
}

// coverWith fills the coverage: every ok write's revision for every key
// (it was the revision's only write), and for the keys each watch with
// no filter watches, its span, from where it had to start when Resumable
// held for it (resumable[w]).
func (ref *reference) coverWith(rec *record, resumable map[*watchRec]bool) {
	for _, r := range ref.order {
		if rr := ref.revs[r]; rr.write != nil {
			for _, k := range ref.keys {
				ref.cover[k].add(r, r)
			}
		}
	}
	for _, w := range rec.watches {
		if w.spec.Filter != "" {
			continue
		}
		first, last, ok := w.span()
		if !ok {
			continue
		}
		if from, known := w.resumeFrom(); known && resumable[w] {
			first = min(first, from)
		}
		for _, k := range ref.keys {
			if w.inRange(k) {
				ref.cover[k].add(first, last)
			}
		}
	}
}

// state is what the reference says key k held just before revision rev:
// its value and mod revision if it existed. known is false when some
// revision in between is not covered for k, so that an unseen write
// could have changed it.
type state struct {
	exists       bool
	value        string
	modRevision  int64
	known        bool
	lastRevision int64
}

// stateBefore returns k's state before rev.
func (ref *reference) stateBefore(k string, rev int64) state {
	revs := ref.byKey[k]
	i := sort.Search(len(revs), func(i int) bool { return revs[i] >= rev }) - 1
	cover := ref.cover[k]
	if cover == nil {
		return state{}
	}
	if i < 0 {
		return state{known: cover.covers(ref.start+1, rev-1)}
	}
	last := revs[i]
	e := ref.revs[last].events[k]
	return state{exists: e.Type == TypePut, value: e.Value, modRevision: last, lastRevision: last, known: cover.covers(last+1, rev-1)}
}
