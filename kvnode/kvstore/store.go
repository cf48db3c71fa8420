// Package kvstore is kvnode's replicated state machine: a key-value map with
// etcd's revision rules and Txn semantics.
//
// It is pure: no I/O, no clocks, no goroutines and no locks. The raft layer
// feeds it committed requests in log order, and every replica that applies the
// same requests reaches the same state and returns the same responses.
//
// Revisions follow etcd's mvcc package. The store starts at revision 1. Every
// request that changes at least one key (a put, a delete that removes
// something, or a Txn whose executed branch does either) increments the global
// revision by exactly one, however many keys it touches. A key's
// create_revision is the revision that created it, its mod_revision the
// revision that last changed it, and its version counts the changes since its
// creation; deleting a key resets all three.
//
// As etcd's mvcc store, the Store keeps the history of every revision since
// its compaction point (history.go): a Range may read an older revision, and
// watchers replay the events of old revisions. Compact drops the history
// below a revision; reads and watches below it then fail with
// ErrGRPCCompacted.
//
// Leases (lease.go) are part of the replicated state: which leases exist,
// their granted TTLs and the keys attached to them. When a lease expires is
// not: that is decided by the leader's clock, outside the store, and reaches
// the store as a LeaseRevoke in the log.
package kvstore

import (
	"sort"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// record is one version of one key. Records are immutable once stored: a
// change installs a new record, so that the history can share them.
type record struct {
	value          []byte
	createRevision int64
	modRevision    int64
	version        int64
	// lease is the lease the key is attached to, or 0.
	lease int64
}

// Store is the key-value state. The zero value is not usable; call New.
// A Store is not safe for concurrent use: the caller serializes access.
type Store struct {
	revision int64
	records  map[string]*record
	// sortedKeys holds the keys of records in ascending byte order, so that
	// ranges are a binary search plus a scan.
	sortedKeys []string
	// size is the sum of key and value lengths, reported as the database size.
	size int64

	// leases holds every granted lease by ID.
	leases map[int64]*leaseRecord
	// compactRevision is the lowest revision that can still be read or
	// watched; history holds the changes of every revision from it up to
	// revision, oldest first.
	compactRevision int64
	history         []revisionChanges
}

// New returns an empty store at revision 1, as a fresh etcd cluster is.
func New() *Store {
	return &Store{revision: 1, records: make(map[string]*record), leases: make(map[int64]*leaseRecord)}
}

// Revision returns the current global revision.
func (s *Store) Revision() int64 { return s.revision }

// Len returns the number of keys.
func (s *Store) Len() int { return len(s.records) }

// Size returns the total number of bytes in keys and values.
func (s *Store) Size() int64 { return s.size }

// Clone returns a deep copy of s. Records and history entries are shared,
// since the store never mutates them once stored.
func (s *Store) Clone() *Store {
	c := &Store{
		revision:        s.revision,
		records:         make(map[string]*record, len(s.records)),
		sortedKeys:      append([]string(nil), s.sortedKeys...),
		size:            s.size,
		leases:          make(map[int64]*leaseRecord, len(s.leases)),
		compactRevision: s.compactRevision,
		// The entries of the history are never modified once appended.
		history: append([]revisionChanges(nil), s.history...),
	}
	for k, r := range s.records {
		c.records[k] = r
	}
	for id, l := range s.leases {
		c.leases[id] = l.clone()
	}
	return c
}

// get returns the record of key, or nil.
func (s *Store) get(key string) *record { return s.records[key] }

// set stores r under key, keeping sortedKeys ordered and the key attached to
// r's lease only.
func (s *Store) set(key string, r *record) {
	if old, ok := s.records[key]; ok {
		s.size += int64(len(r.value) - len(old.value))
		s.detach(old.lease, key)
	} else {
		i := sort.SearchStrings(s.sortedKeys, key)
		s.sortedKeys = append(s.sortedKeys, "")
		copy(s.sortedKeys[i+1:], s.sortedKeys[i:])
		s.sortedKeys[i] = key
		s.size += int64(len(key) + len(r.value))
	}
	s.records[key] = r
	s.attach(r.lease, key)
}

// remove deletes key if present.
func (s *Store) remove(key string) {
	old, ok := s.records[key]
	if !ok {
		return
	}
	delete(s.records, key)
	s.detach(old.lease, key)
	i := sort.SearchStrings(s.sortedKeys, key)
	s.sortedKeys = append(s.sortedKeys[:i], s.sortedKeys[i+1:]...)
	s.size -= int64(len(key) + len(old.value))
}

// keysIn returns the existing keys in the interval [key, rangeEnd), read the
// way etcd reads a RangeRequest:
//   - an empty rangeEnd means the single key;
//   - rangeEnd "\x00" means every key >= key;
//   - otherwise the half-open interval [key, rangeEnd).
//
// The result is in ascending order and must not be modified.
func (s *Store) keysIn(key, rangeEnd []byte) []string {
	if len(rangeEnd) == 0 {
		if _, ok := s.records[string(key)]; ok {
			return []string{string(key)}
		}
		return nil
	}
	lo := sort.SearchStrings(s.sortedKeys, string(key))
	hi := len(s.sortedKeys)
	if !(len(rangeEnd) == 1 && rangeEnd[0] == 0) {
		hi = sort.SearchStrings(s.sortedKeys, string(rangeEnd))
	}
	if hi <= lo {
		return nil
	}
	return s.sortedKeys[lo:hi]
}

// keyValue renders the record of key as etcd's wire type.
func (r *record) keyValue(key string, keysOnly bool) *mvccpb.KeyValue {
	kv := &mvccpb.KeyValue{
		Key:            []byte(key),
		CreateRevision: r.createRevision,
		ModRevision:    r.modRevision,
		Version:        r.version,
		Lease:          r.lease,
	}
	if !keysOnly {
		kv.Value = r.value
	}
	return kv
}
