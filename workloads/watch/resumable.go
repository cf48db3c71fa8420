package watch

import (
	"fmt"

	"github.com/faultline/faultline/harness"
)

// compactions is what the history says of compactions.
type compactions struct {
	// any says some compaction may have taken effect (it did not fail);
	// max is the highest revision one of those asked for, and unknown
	// says one of them does not say which.
	any     bool
	max     int64
	unknown bool
	// applied are the acknowledged compactions each node provably
	// applied once its revision reached by.
	applied []appliedCompaction
}

// appliedCompaction is an acknowledged compaction to revision, and the
// lowest revision acknowledged for a write invoked after it completed:
// raft applies entries in log order on every node, so a node whose
// revision is by or above has applied the compaction.
type appliedCompaction struct {
	op       int
	revision int64
	by       int64
	byWrite  *writeOp
}

// compactionsOf reads rec's compactions.
func compactionsOf(rec *record) compactions {
	var c compactions
	for _, op := range rec.compacts {
		if op.outcome == harness.Fail {
			continue
		}
		c.any = true
		if !op.known {
			c.unknown = true
			continue
		}
		c.max = max(c.max, op.revision)
		if op.outcome != harness.OK || op.completed < 0 {
			continue
		}
		var by *writeOp
		for _, w := range rec.writes {
			if w.outcome == harness.OK && len(w.changes()) > 0 && w.invoked > op.completed && (by == nil || w.revision < by.revision) {
				by = w
			}
		}
		if by != nil {
			c.applied = append(c.applied, appliedCompaction{op: op.op, revision: op.revision, by: by.revision, byWrite: by})
		}
	}
	return c
}

// mayHaveRemoved says whether a compaction may have removed revision
// rev: one asked for a revision above it, or did not say which.
func (c compactions) mayHaveRemoved(rev int64) bool {
	return c.unknown || (c.any && c.max > rev)
}

// judgeResumable judges that w delivered every event it watches from the
// revision it had to start from (see watchRec.resumeFrom), none below it
// and none missed at the start (below-start, missed-start), and its
// compactions: a cancellation as compacted at C must be at a revision
// some compaction asked for (unrequested-compaction) and one the watch
// still needed (spurious-compaction: its next revision was below C),
// with nothing after it (event-after-cancel); a watch created on a node
// that had provably applied a compaction to C must not deliver events
// below C (compacted-delivered). It reports whether it judged anything.
func judgeResumable(j *judgement, w *watchRec, ref *reference, comp compactions) bool {
	judged := false
	cancel := -1
	for i, r := range w.responses {
		if r.CompactRevision > 0 {
			cancel = i
			break
		}
	}
	if cancel >= 0 {
		judged = true
		judgeCancel(j, w, cancel, comp)
	}
	from, known := w.resumeFrom()
	if !known {
		return judged
	}
	var first *delivered
	var vouched int64
	for i, r := range w.responses {
		if cancel >= 0 && i > cancel {
			break
		}
		if r.Progress {
			vouched = max(vouched, r.Revision)
		}
	}
	for i := range w.events {
		d := &w.events[i]
		if cancel >= 0 && d.resp > cancel {
			break
		}
		if w.from == 0 && d.Revision < from {
			continue // a watch of now may deliver up to its creation's revision
		}
		first = d
		break
	}
	want := ref.firstMatch(w, from)
	switch {
	case first != nil && first.Revision < from:
		judged = true
		j.flag(w.name, Violation{Kind: "below-start", Watcher: w.name, Op: first.op, Revision: first.Revision, Key: first.Key,
			Detail: fmt.Sprintf("a watch from revision %d delivered revision %d first", from, first.Revision)})
	case first != nil:
		judged = true
		if want != nil && want.Revision < first.Revision {
			j.flag(w.name, Violation{Kind: "missed-start", Watcher: w.name, Op: first.op, Revision: want.Revision, Key: want.Key,
				Detail: fmt.Sprintf("a watch from revision %d delivered revision %d first, but the history has %s at revision %d (%s)", from, first.Revision, describe(*want), want.Revision, ref.revs[want.Revision].source)})
		}
	case vouched >= from:
		judged = true
		if want != nil && want.Revision <= vouched {
			j.flag(w.name, Violation{Kind: "missed-start", Watcher: w.name, Op: w.responses[0].op, Revision: want.Revision, Key: want.Key,
				Detail: fmt.Sprintf("a watch from revision %d delivered nothing up to its progress notification at revision %d, but the history has %s at revision %d (%s)", from, vouched, describe(*want), want.Revision, ref.revs[want.Revision].source)})
		}
	}
	if cancel < 0 && w.from > 0 {
		if judgeCompactedDelivered(j, w, comp) {
			judged = true
		}
	}
	return judged
}

// judgeCancel judges w's cancellation as compacted, its response cancel.
func judgeCancel(j *judgement, w *watchRec, cancel int, comp compactions) {
	r := w.responses[cancel]
	c := r.CompactRevision
	next := w.from
	for _, p := range w.responses[:cancel] {
		if v := p.vouched(); v > 0 {
			next = max(next, v+1)
		}
	}
	at := func(kind string, rev int64, format string, args ...any) {
		j.flag(w.name, Violation{Kind: kind, Watcher: w.name, Op: r.op, Revision: rev, Detail: fmt.Sprintf(format, args...)})
	}
	switch {
	case !comp.unknown && c > comp.max:
		at("unrequested-compaction", c, "cancelled as compacted at revision %d, above every compaction asked for (%s)", c, comp.brief())
	case next >= c && next > 0:
		at("spurious-compaction", c, "cancelled as compacted at revision %d, though it needed nothing below revision %d", c, next)
	}
	for _, later := range w.responses[cancel+1:] {
		if len(later.Events) > 0 {
			e := later.Events[0]
			j.flag(w.name, Violation{Kind: "event-after-cancel", Watcher: w.name, Op: later.op, Revision: e.Revision, Key: e.Key,
				Detail: fmt.Sprintf("revision %d delivered after the watch was cancelled as compacted at revision %d", e.Revision, c)})
			break
		}
	}
}

// judgeCompactedDelivered: a watch from below a compaction, created on
// a node whose revision shows it had applied the compaction, must be
// cancelled; it must not deliver the compacted revisions. It reports
// whether some compaction applied to w.
func judgeCompactedDelivered(j *judgement, w *watchRec, comp compactions) bool {
	created, ok := w.created()
	if !ok {
		return false
	}
	judged := false
	for _, c := range comp.applied {
		if created < c.by || w.from >= c.revision {
			continue
		}
		judged = true
		for _, d := range w.events {
			if d.Revision < c.revision {
				j.flag(w.name, Violation{Kind: "compacted-delivered", Watcher: w.name, Op: d.op, Revision: d.Revision, Key: d.Key,
					Detail: fmt.Sprintf("a watch from revision %d delivered revision %d instead of being cancelled as compacted: it was created at revision %d, so its node had applied %s (revision %d), invoked after compaction op %d to revision %d completed", w.from, d.Revision, created, c.byWrite.name(), c.by, c.op, c.revision)})
				break
			}
		}
	}
	return judged
}

// brief says which compactions were asked for.
func (c compactions) brief() string {
	if !c.any {
		return "none was"
	}
	return fmt.Sprintf("the highest to revision %d", c.max)
}

// firstMatch is the first event of the reference at or above from that w
// must deliver.
func (ref *reference) firstMatch(w *watchRec, from int64) *Event {
	for _, r := range ref.between(from, ref.last()) {
		rr := ref.revs[r]
		for _, k := range ref.keys {
			if e, ok := rr.events[k]; ok && w.matches(k, e.Type) {
				return &e
			}
		}
	}
	return nil
}

// last is the reference's highest revision.
func (ref *reference) last() int64 {
	if len(ref.order) == 0 {
		return 0
	}
	return ref.order[len(ref.order)-1]
}
