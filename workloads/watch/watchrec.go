package watch

// What one watch asked for and what it vouches for.

// inRange says whether w watches key k (keys relative to the prefix, in
// etcd's byte order).
func (w *watchRec) inRange(k string) bool {
	switch {
	case w.spec.Prefix:
		return true
	case w.spec.End != "":
		return k >= w.spec.Key && k < w.spec.End
	}
	return k == w.spec.Key
}

// passes says whether w's filter lets an event of type t through.
func (w *watchRec) passes(t string) bool {
	switch w.spec.Filter {
	case FilterNoPut:
		return t != TypePut
	case FilterNoDelete:
		return t != TypeDelete
	}
	return true
}

// matches says whether w must deliver e: e is on a key it watches, of a
// type its filter lets through.
func (w *watchRec) matches(key, typ string) bool { return w.inRange(key) && w.passes(typ) }

// whole says whether w sees every event of every revision it delivers:
// a watch of the whole prefix with no filter.
func (w *watchRec) whole() bool { return w.spec.Prefix && w.spec.Filter == "" }

// span is the revisions w delivered everything of, by Reliable: from its
// first event's revision (or past its first progress notification, when
// that came first) to the last revision it vouched for, an event's or a
// progress notification's, and never below the revision it watched from.
// ok is false when it vouched for nothing.
func (w *watchRec) span() (first, last int64, ok bool) {
	for _, r := range w.responses {
		if v := r.vouched(); v > 0 {
			if !ok {
				first, ok = v+1, true
				if len(r.Events) > 0 {
					first = r.Events[0].Revision
				}
			}
			last = max(last, v)
		}
	}
	if ok && w.fromKnown && w.from > first {
		// A watch from a revision owes nothing below it, whatever a
		// progress notification before it vouched for.
		first = w.from
	}
	return first, last, ok
}

// created returns the revision of w's creation response: the serving
// node's revision when it registered the watch.
func (w *watchRec) created() (int64, bool) {
	for _, r := range w.responses {
		if r.Created {
			return r.Revision, true
		}
	}
	return 0, false
}

// resumeFrom is the revision w must deliver everything from, by
// Resumable: the one it asked for, or past its creation's for a watch
// of now. ok is false when the history does not say.
func (w *watchRec) resumeFrom() (int64, bool) {
	switch {
	case !w.fromKnown:
		return 0, false
	case w.from > 0:
		return w.from, true
	}
	if h, ok := w.created(); ok {
		return h + 1, true
	}
	return 0, false
}
