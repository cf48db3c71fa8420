package watch

import "fmt"

// judgePrevKV judges the previous key-values w delivered (PrevKV). For a
// watch WithPrevKV, an event's prev_kv is the key's value and mod
// revision just before the event's revision in the reference: a key that
// existed has one (missing-prev-kv), unless a compaction may have removed
// that revision, which etcd reads it from; one that did not has none
// (prev-kv-of-absent); and it is the right one (wrong-prev-kv). Events
// whose key's state is not known (some revision in between is not known
// whole for the key) are not judged. A watch without WithPrevKV gets none
// (unrequested-prev-kv). It returns how many events it judged and how
// many it could not.
func judgePrevKV(j *judgement, w *watchRec, ref *reference, comp compactions) (judged, unknown int) {
	for _, d := range w.events {
		at := func(kind, format string, args ...any) {
			j.flag(w.name, Violation{Kind: kind, Watcher: w.name, Op: d.op, Revision: d.Revision, Key: d.Key, Detail: fmt.Sprintf(format, args...)})
		}
		if !w.spec.PrevKV {
			if d.PrevValue != nil {
				at("unrequested-prev-kv", "a prev_kv (%q at revision %d) on a watch without WithPrevKV", *d.PrevValue, d.PrevRevision)
			}
			continue
		}
		s := ref.stateBefore(d.Key, d.Revision)
		if !s.known {
			unknown++
			continue
		}
		judged++
		switch {
		case d.PrevValue == nil && s.exists && !comp.mayHaveRemoved(d.Revision-1):
			at("missing-prev-kv", "%s at revision %d has no prev_kv, though %s held %s since revision %d and no compaction reached revision %d", describe(d.Event), d.Revision, d.Key, s.value, s.modRevision, d.Revision-1)
		case d.PrevValue != nil && !s.exists:
			at("prev-kv-of-absent", "%s at revision %d has prev_kv %q (revision %d), though %s did not exist before it%s", describe(d.Event), d.Revision, *d.PrevValue, d.PrevRevision, d.Key, since(s))
		case d.PrevValue != nil && (*d.PrevValue != s.value || d.PrevRevision != s.modRevision):
			at("wrong-prev-kv", "%s at revision %d has prev_kv %q (revision %d), but %s held %s since revision %d", describe(d.Event), d.Revision, *d.PrevValue, d.PrevRevision, d.Key, s.value, s.modRevision)
		}
	}
	return judged, unknown
}

// since says when a key that does not exist was deleted, if it was.
func since(s state) string {
	if s.lastRevision == 0 {
		return ""
	}
	return fmt.Sprintf(" (deleted at revision %d)", s.lastRevision)
}
