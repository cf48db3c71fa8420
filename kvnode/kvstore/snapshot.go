package kvstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// snapshotImage is the serialized form of a Store: the current keys, the
// leases, and the history from the compaction point, so that a node restored
// from a snapshot serves reads and watches of the same revisions as the node
// that took it. JSON keeps snapshots readable with standard tools when a run
// has to be investigated; the state of a test cluster is small enough that
// its size does not matter.
//
// Snapshots written before kvnode kept a history have neither
// compact_revision nor history: they are read as compacted at their
// revision.
type snapshotImage struct {
	Revision        int64              `json:"revision"`
	CompactRevision int64              `json:"compact_revision,omitempty"`
	KVs             []snapshotKV       `json:"kvs"`
	Leases          []snapshotLease    `json:"leases,omitempty"`
	History         []snapshotRevision `json:"history,omitempty"`
}

type snapshotKV struct {
	Key []byte `json:"key"`
	snapshotRecord
}

type snapshotRecord struct {
	Value          []byte `json:"value"`
	CreateRevision int64  `json:"create_revision"`
	ModRevision    int64  `json:"mod_revision"`
	Version        int64  `json:"version"`
	Lease          int64  `json:"lease,omitempty"`
}

type snapshotLease struct {
	ID  int64 `json:"id"`
	TTL int64 `json:"ttl"`
}

type snapshotRevision struct {
	Revision int64            `json:"revision"`
	Changes  []snapshotChange `json:"changes"`
}

// snapshotChange is one change of the history; a nil Next means the
// revision deleted the key. Prev is written only for the first change of a
// key in the history, nil meaning the key did not exist before: the prev
// of every later change is the next of the one before it.
type snapshotChange struct {
	Key  []byte          `json:"key"`
	Prev *snapshotRecord `json:"prev,omitempty"`
	Next *snapshotRecord `json:"next,omitempty"`
}

func imageOf(r *record) *snapshotRecord {
	if r == nil {
		return nil
	}
	return &snapshotRecord{Value: r.value, CreateRevision: r.createRevision, ModRevision: r.modRevision, Version: r.version, Lease: r.lease}
}

func (r *snapshotRecord) record() *record {
	if r == nil {
		return nil
	}
	return &record{value: r.Value, createRevision: r.CreateRevision, modRevision: r.ModRevision, version: r.Version, lease: r.Lease}
}

// MarshalSnapshot serializes the whole store. Equal stores give equal bytes.
func (s *Store) MarshalSnapshot() ([]byte, error) {
	img := snapshotImage{
		Revision:        s.revision,
		CompactRevision: s.compactRevision,
		KVs:             make([]snapshotKV, 0, len(s.sortedKeys)),
	}
	for _, k := range s.sortedKeys {
		img.KVs = append(img.KVs, snapshotKV{Key: []byte(k), snapshotRecord: *imageOf(s.records[k])})
	}
	for _, id := range s.LeaseIDs() {
		img.Leases = append(img.Leases, snapshotLease{ID: id, TTL: s.leases[id].ttl})
	}
	seen := make(map[string]bool)
	for _, rc := range s.history {
		sr := snapshotRevision{Revision: rc.rev, Changes: make([]snapshotChange, len(rc.changes))}
		for i, c := range rc.changes {
			sr.Changes[i] = snapshotChange{Key: []byte(c.key), Next: imageOf(c.next)}
			if !seen[c.key] {
				sr.Changes[i].Prev = imageOf(c.prev)
				seen[c.key] = true
			}
		}
		img.History = append(img.History, sr)
	}
	data, err := json.Marshal(img)
	if err != nil {
		return nil, fmt.Errorf("marshal kv snapshot: %w", err)
	}
	return data, nil
}

// RestoreSnapshot rebuilds a store from MarshalSnapshot's output.
func RestoreSnapshot(data []byte) (*Store, error) {
	var img snapshotImage
	if err := json.Unmarshal(data, &img); err != nil {
		return nil, fmt.Errorf("unmarshal kv snapshot: %w", err)
	}
	s, err := restoreImage(&img)
	if err != nil {
		return nil, fmt.Errorf("unmarshal kv snapshot: %w", err)
	}
	return s, nil
}

func restoreImage(img *snapshotImage) (*Store, error) {
	if img.Revision < 1 {
		return nil, fmt.Errorf("revision %d is below 1", img.Revision)
	}
	if img.CompactRevision < 0 || img.CompactRevision > img.Revision {
		return nil, fmt.Errorf("compact revision %d is outside [0, %d]", img.CompactRevision, img.Revision)
	}
	s := New()
	s.revision = img.Revision
	s.compactRevision = img.CompactRevision
	if s.compactRevision == 0 && s.revision > 1 && len(img.History) == 0 {
		// Written before kvnode kept a history.
		s.compactRevision = s.revision
	}
	for _, l := range img.Leases {
		if l.ID == 0 || s.leases[l.ID] != nil {
			return nil, fmt.Errorf("lease ID %d is zero or repeated", l.ID)
		}
		s.leases[l.ID] = &leaseRecord{ttl: l.TTL, keys: make(map[string]struct{})}
	}
	for _, kv := range img.KVs {
		if len(kv.Key) == 0 {
			return nil, errors.New("empty key")
		}
		key := string(kv.Key)
		r := kv.record()
		if r.lease != 0 && s.leases[r.lease] == nil {
			return nil, fmt.Errorf("key %q is attached to lease %d, which does not exist", key, r.lease)
		}
		s.records[key] = r
		s.attach(r.lease, key)
		s.sortedKeys = append(s.sortedKeys, key)
		s.size += int64(len(key) + len(kv.Value))
	}
	if len(s.records) != len(s.sortedKeys) {
		return nil, errors.New("duplicate keys")
	}
	sort.Strings(s.sortedKeys)
	last := int64(0)
	// latest is each key's record after its last change read so far.
	latest := make(map[string]*record)
	for _, sr := range img.History {
		if sr.Revision <= last || sr.Revision < s.compactRevision || sr.Revision > s.revision {
			return nil, fmt.Errorf("history revision %d is out of order or outside [%d, %d]", sr.Revision, s.compactRevision, s.revision)
		}
		last = sr.Revision
		rc := revisionChanges{rev: sr.Revision, changes: make([]change, len(sr.Changes))}
		for i, c := range sr.Changes {
			key := string(c.Key)
			prev, seen := latest[key]
			if !seen {
				prev = c.Prev.record()
			}
			rc.changes[i] = change{key: key, prev: prev, next: c.Next.record()}
			latest[key] = rc.changes[i].next
		}
		s.history = append(s.history, rc)
	}
	return s, nil
}
