package kvstore

import (
	"slices"
	"sort"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// change is what one revision did to one key.
type change struct {
	key string
	// prev is the key's record before the revision, nil if it did not
	// exist; next is its record after, nil if the revision deleted it.
	prev, next *record
}

// revisionChanges is every change of one revision, in the order the request
// made them: etcd's sub-revision order, which is the order of the operations
// in a Txn, and key order for a DeleteRange or a lease revoke.
type revisionChanges struct {
	rev     int64
	changes []change
}

// appendHistory records the changes of the request that just committed at
// rev. order lists the touched keys in the order they were first changed and
// before maps each to its record before the request.
func (s *Store) appendHistory(rev int64, order []string, before map[string]*record) {
	changes := make([]change, len(order))
	for i, key := range order {
		changes[i] = change{key: key, prev: before[key], next: s.records[key]}
	}
	s.history = append(s.history, revisionChanges{rev: rev, changes: changes})
}

// CompactRevision returns the lowest revision that can still be read or
// watched: older ones have been compacted. Zero means nothing was compacted.
func (s *Store) CompactRevision() int64 { return s.compactRevision }

// HistoryLen returns the number of revisions the history holds.
func (s *Store) HistoryLen() int { return len(s.history) }

// Compact drops the history below req's revision, as etcd's Compact does:
// afterwards a Range or a watch at an older revision fails with
// ErrGRPCCompacted, while the revision itself can still be read and
// watched. A revision at or below the current compaction point fails with
// ErrGRPCCompacted and a future one with ErrGRPCFutureRev. Physical
// compaction has nothing to wait for here: the history is dropped at once.
func (s *Store) Compact(req *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	rev := req.GetRevision()
	switch {
	case rev <= s.compactRevision:
		return nil, rpctypes.ErrGRPCCompacted
	case rev > s.revision:
		return nil, rpctypes.ErrGRPCFutureRev
	}
	s.compactRevision = rev
	first := sort.Search(len(s.history), func(i int) bool { return s.history[i].rev >= rev })
	// A copy, so that the dropped entries can be freed.
	s.history = slices.Clone(s.history[first:])
	return &pb.CompactionResponse{Header: &pb.ResponseHeader{Revision: s.revision}}, nil
}

// EventsOptions selects the events Events returns.
type EventsOptions struct {
	// From is the first revision to return events of.
	From int64
	// Keys are the keys to return events of.
	Keys KeyInterval
	// PrevKV adds each event's previous key-value, when the key existed.
	PrevKV bool
	// MaxEvents bounds the events returned, except that the events of one
	// revision are never split: a revision holding more is returned whole.
	// Zero means no bound.
	MaxEvents int
}

// Events returns the events of revisions From and later on the selected
// keys, in revision order and, within a revision, in the order the request
// made its changes, as etcd's watchers deliver them. through is the last
// revision the events cover: the current revision, unless MaxEvents cut the
// scan short. From below the compaction point fails with ErrGRPCCompacted.
//
// A put event carries the key's new version; a delete event carries only the
// key and the revision of the delete, as etcd's tombstones do.
func (s *Store) Events(opts EventsOptions) (events []*mvccpb.Event, through int64, err error) {
	if opts.From < s.compactRevision {
		return nil, 0, rpctypes.ErrGRPCCompacted
	}
	first := sort.Search(len(s.history), func(i int) bool { return s.history[i].rev >= opts.From })
	through = s.revision
	for _, rc := range s.history[first:] {
		if opts.MaxEvents > 0 && len(events) >= opts.MaxEvents {
			through = rc.rev - 1
			break
		}
		for _, c := range rc.changes {
			if opts.Keys.Contains(c.key) {
				events = append(events, c.event(rc.rev, opts.PrevKV))
			}
		}
	}
	return events, through, nil
}

// event renders a change as etcd's watch event.
func (c change) event(rev int64, prevKV bool) *mvccpb.Event {
	ev := &mvccpb.Event{Type: mvccpb.Event_PUT}
	if c.next != nil {
		ev.Kv = c.next.keyValue(c.key, false)
	} else {
		ev.Type = mvccpb.Event_DELETE
		ev.Kv = &mvccpb.KeyValue{Key: []byte(c.key), ModRevision: rev}
	}
	if prevKV && c.prev != nil {
		ev.PrevKv = c.prev.keyValue(c.key, false)
	}
	return ev
}

// recordsAt returns the keys in the interval as they were at revision rev,
// in ascending order, with their records. pending is the request in
// progress, whose changes are not in the history yet; when it has changed
// something, the current records hold its changes (at pending.rev).
//
// The current records are taken and every change above rev undone, newest
// first. rev must not be below the compaction point, since the history holds
// every change from there.
func (s *Store) recordsAt(key, rangeEnd []byte, rev int64, pending *writeTxn) ([]string, []*record) {
	current := s.keysIn(key, rangeEnd)
	undone := make(map[string]*record)
	iv := NewKeyInterval(key, rangeEnd)
	if pending != nil && pending.changed && pending.rev > rev {
		for _, k := range pending.undoOrder {
			if iv.Contains(k) {
				undone[k] = pending.undo[k]
			}
		}
	}
	for i := len(s.history) - 1; i >= 0 && s.history[i].rev > rev; i-- {
		for _, c := range s.history[i].changes {
			if iv.Contains(c.key) {
				undone[c.key] = c.prev
			}
		}
	}
	if len(undone) == 0 {
		recs := make([]*record, len(current))
		for i, k := range current {
			recs[i] = s.records[k]
		}
		return current, recs
	}
	keys := make([]string, 0, len(current)+len(undone))
	for _, k := range current {
		if _, ok := undone[k]; !ok {
			keys = append(keys, k)
		}
	}
	for k, r := range undone {
		if r != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	recs := make([]*record, len(keys))
	for i, k := range keys {
		if r, ok := undone[k]; ok {
			recs[i] = r
		} else {
			recs[i] = s.records[k]
		}
	}
	return keys, recs
}
