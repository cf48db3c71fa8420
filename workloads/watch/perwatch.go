package watch

import "fmt"

// The guarantees judged within each watch on its own, without the
// reference history: Ordered, Unique,
// Atomic, Bookmarkable.

// judgeOrdered: no event's revision is below an earlier event's of the
// same watch.
func judgeOrdered(j *judgement, w *watchRec) {
	var last int64
	for _, d := range w.events {
		if d.Revision < last {
			j.flag(w.name, Violation{Kind: "out-of-order", Watcher: w.name, Op: d.op, Revision: d.Revision, Key: d.Key,
				Detail: fmt.Sprintf("revision %d delivered after revision %d", d.Revision, last)})
		}
		last = max(last, d.Revision)
	}
}

// judgeUnique: no (revision, key) is delivered twice by one watch.
func judgeUnique(j *judgement, w *watchRec) {
	seen := map[string]int{}
	for i, d := range w.events {
		id := fmt.Sprintf("%d\x00%s", d.Revision, d.Key)
		if at, dup := seen[id]; dup {
			j.flag(w.name, Violation{Kind: "duplicate", Watcher: w.name, Op: d.op, Revision: d.Revision, Key: d.Key,
				Detail: fmt.Sprintf("revision %d of %s delivered again (first as event %d, again as event %d)", d.Revision, d.Key, at, i)})
			continue
		}
		seen[id] = i
	}
}

// judgeAtomic: a revision's events are never split over two responses:
// a response whose first revision is the previous event-bearing
// response's last delivers no event of that revision it did not already
// deliver. It returns how many response boundaries it judged.
func judgeAtomic(j *judgement, w *watchRec) int {
	judged := 0
	var prev map[string]bool
	var prevLast int64
	for _, r := range w.responses {
		if len(r.Events) == 0 {
			continue
		}
		if prev != nil {
			judged++
			if first := r.Events[0]; first.Revision == prevLast {
				for _, e := range r.Events {
					if e.Revision != prevLast {
						break
					}
					if !prev[e.Key] {
						j.flag(w.name, Violation{Kind: "split-revision", Watcher: w.name, Op: r.op, Revision: e.Revision, Key: e.Key,
							Detail: fmt.Sprintf("revision %d's event on %s came in a later response than its other events", e.Revision, e.Key)})
						break
					}
				}
			}
		}
		prevLast = r.Events[len(r.Events)-1].Revision
		prev = map[string]bool{}
		for _, e := range r.Events {
			if e.Revision == prevLast {
				prev[e.Key] = true
			}
		}
	}
	return judged
}

// judgeBookmarkable: after a progress notification at revision P no
// event at P or below comes, progress notifications go neither
// backwards nor below an event already delivered, and on a watch from
// revision R none is below R-1 (a bookmark before where the watch
// begins: etcd#20221, a watch on a future revision). It returns how many
// progress notifications it judged.
func judgeBookmarkable(j *judgement, w *watchRec) int {
	judged := 0
	var progress, event int64
	for _, r := range w.responses {
		for _, e := range r.Events {
			if progress > 0 && e.Revision <= progress {
				j.flag(w.name, Violation{Kind: "event-after-progress", Watcher: w.name, Op: r.op, Revision: e.Revision, Key: e.Key,
					Detail: fmt.Sprintf("revision %d delivered after a progress notification at revision %d", e.Revision, progress)})
			}
			event = max(event, e.Revision)
		}
		if !r.Progress {
			continue
		}
		judged++
		switch {
		case w.fromKnown && w.from > 1 && r.Revision < w.from-1:
			j.flag(w.name, Violation{Kind: "progress-before-start", Watcher: w.name, Op: r.op, Revision: r.Revision,
				Detail: fmt.Sprintf("progress notification at revision %d on a watch from revision %d: a client that resumes after it asks for revisions before the ones it watched from", r.Revision, w.from)})
		case r.Revision < progress:
			j.flag(w.name, Violation{Kind: "progress-backwards", Watcher: w.name, Op: r.op, Revision: r.Revision,
				Detail: fmt.Sprintf("progress notification at revision %d after one at revision %d", r.Revision, progress)})
		case r.Revision < event:
			j.flag(w.name, Violation{Kind: "progress-behind", Watcher: w.name, Op: r.op, Revision: r.Revision,
				Detail: fmt.Sprintf("progress notification at revision %d after an event at revision %d", r.Revision, event)})
		}
		progress = max(progress, r.Revision)
	}
	return judged
}
