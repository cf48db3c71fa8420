package watch

import (
	"context"
	"fmt"
	"strings"

	"github.com/faultline/faultline/harness"
)

// Checker judges etcd's watch guarantees, each on its own, over every
// watch of a history: the live sessions' watches (each (re)open is a
// watch) and each page of every final watch.
//
// The reference history says which events each revision holds (see
// reference): from the acknowledged writes, the final replays, and every
// watch. Each guarantee's rule is in its judge function:
//
//   - Ordered (judgeOrdered): revisions never go down within a watch;
//   - Unique (judgeUnique): no event twice in a watch;
//   - Atomic (judgeAtomic): a revision's events never split over two
//     responses;
//   - Bookmarkable (judgeBookmarkable): nothing at or below a progress
//     notification's revision after it;
//   - Reliable (judgeGaps, judgeValues, judgeLost): every event a watch
//     with no filter watches within its span delivered, every event
//     delivered the history's, and every acknowledged write in every
//     complete final replay;
//   - Resumable (judgeResumable): a watch from revision r delivers its
//     range's first event from r first, nothing below r, and is cancelled
//     as compacted only when it must be and whenever it must be;
//   - PrevKV (judgePrevKV): each prev_kv is the key's previous value;
//   - Filter (judgeFilter, judgeGaps): a filtered type never delivered,
//     every other type always.
//
// A guarantee is false with a violation; unknown when the history gives
// it nothing to judge (no progress notification for Bookmarkable, no
// filtered watch for Filter, ...), and Reliable is unknown while no
// final watch completed, since lost writes were then never looked for;
// true otherwise. The verdict is the worst of them.
type Checker struct {
	// StartRevision is where StartFirst sessions and final watches
	// start; zero means DefaultStartRevision.
	StartRevision int64
}

// Name is "watch".
func (Checker) Name() string { return "watch" }

// Details is what the watch checker reports in results.json.
type Details struct {
	Counts
	// Revisions is the reference history's length, Whole how many of
	// its revisions are known whole.
	Revisions int `json:"revisions"`
	Whole     int `json:"whole_revisions"`
	// Finals says what became of each final watch.
	Finals []FinalSummary `json:"finals,omitempty"`
	// Properties are the verdicts, in the order of Properties.
	Properties []PropertyResult `json:"properties"`
}

// FinalSummary is one final watch.
type FinalSummary struct {
	Op       int    `json:"op"`
	Node     string `json:"node"`
	Target   int64  `json:"target,omitempty"`
	Complete bool   `json:"complete"`
	Pages    int    `json:"pages"`
	Events   int    `json:"events"`
	Outcome  string `json:"outcome"`
}

// Check judges h. It writes nothing to out.
func (c Checker) Check(_ context.Context, h harness.History, _ string) harness.Result {
	start := c.StartRevision
	if start == 0 {
		start = DefaultStartRevision
	}
	rec, err := collect(h)
	if err != nil {
		return harness.Result{Valid: harness.ValidUnknown, Summary: []string{"watch: cannot judge a malformed history: " + err.Error()}}
	}
	d := &Details{Counts: rec.counts}
	ref, shared := buildReference(rec, start)
	d.Revisions = len(ref.order)
	for _, r := range ref.order {
		if ref.revs[r].whole {
			d.Whole++
		}
	}
	for _, f := range rec.finals {
		fs := FinalSummary{Op: f.op, Node: f.node, Target: f.target, Complete: f.complete, Pages: len(f.pages), Outcome: f.outcome()}
		for _, p := range f.pages {
			fs.Events += len(p.events)
		}
		d.Finals = append(d.Finals, fs)
	}
	d.Properties = judgeAll(rec, ref, shared)
	valid := harness.ValidTrue
	for _, p := range d.Properties {
		valid = harness.Merge(valid, p.Valid)
	}
	return harness.Result{Valid: valid, Summary: summary(d), Details: d}
}

// judgeAll judges every guarantee.
func judgeAll(rec *record, ref *reference, shared []Violation) []PropertyResult {
	js := map[string]*judgement{}
	for _, p := range Properties {
		js[p] = newJudgement(p)
	}
	comp := compactionsOf(rec)
	var n struct{ ordered, events, boundaries, progress, resumable, spans, filtered, prevJudged, prevUnknown, prevEvents int }
	resumable := map[*watchRec]bool{}
	for _, w := range rec.watches {
		if len(w.events) > 1 {
			n.ordered++
		}
		n.events += len(w.events)
		judgeOrdered(js[Ordered], w)
		judgeUnique(js[Unique], w)
		n.boundaries += judgeAtomic(js[Atomic], w)
		n.progress += judgeBookmarkable(js[Bookmarkable], w)
		before := len(js[Resumable].violations)
		if judgeResumable(js[Resumable], w, ref, comp) {
			n.resumable++
		}
		resumable[w] = len(js[Resumable].violations) == before
	}
	ref.coverWith(rec, resumable)
	deletes := map[string][]*writeOp{}
	for _, w := range rec.writes {
		for _, m := range w.muts {
			if m.Type == TypeDelete {
				deletes[m.Key] = append(deletes[m.Key], w)
			}
		}
	}
	for _, w := range rec.watches {
		judgeValues(js[Reliable], w, ref, rec, deletes)
		if judgeGaps(js[Reliable], js[Filter], w, ref) && w.spec.Filter == "" {
			n.spans++
		}
		if judgeFilter(js[Filter], w) {
			n.filtered++
		}
		judged, unknown := judgePrevKV(js[PrevKV], w, ref, comp)
		n.prevJudged += judged
		n.prevUnknown += unknown
		if w.spec.PrevKV {
			n.prevEvents += len(w.events)
		}
	}
	for _, v := range shared {
		js[Reliable].flag("", v)
	}
	lost, lostReason := judgeLost(js[Reliable], rec)

	none := func(cond bool, reason string) string {
		if cond {
			return reason
		}
		return ""
	}
	reliableReason := lostReason
	if n.spans == 0 {
		reliableReason = strings.TrimSuffix("no watch with no filter vouched for any revision; "+lostReason, "; ")
	}
	prevReason := fmt.Sprintf("no event of a watch WithPrevKV could be judged: %d delivered, the key's state before %d of them unknown", n.prevEvents, n.prevUnknown)
	return []PropertyResult{
		js[Ordered].result(fmt.Sprintf("%d watches of two events or more", n.ordered), none(n.ordered == 0, "no watch delivered two events")),
		js[Unique].result(fmt.Sprintf("%d watches of two events or more", n.ordered), none(n.ordered == 0, "no watch delivered two events")),
		js[Atomic].result(fmt.Sprintf("%d response boundaries", n.boundaries), none(n.boundaries == 0, "no watch delivered two responses with events")),
		js[Bookmarkable].result(fmt.Sprintf("%d progress notifications", n.progress), none(n.progress == 0, "no watch got a progress notification")),
		js[Reliable].result(fmt.Sprintf("%d watch spans, %d events, %d acknowledged writes looked for in the final replays", n.spans, n.events, lost), reliableReason),
		js[Resumable].result(fmt.Sprintf("%d watches from a known revision", n.resumable), none(n.resumable == 0, "no watch from a known revision delivered or vouched for anything")),
		js[PrevKV].result(fmt.Sprintf("%d events judged, %d with the key's state before them unknown", n.prevJudged, n.prevUnknown), none(n.prevJudged == 0, prevReason)),
		js[Filter].result(fmt.Sprintf("%d watches with a filter", n.filtered), none(n.filtered == 0, "no watch with a filter delivered or vouched for anything")),
	}
}
