package kvstore

import (
	"encoding/json"
	"fmt"
	"sort"
)

// snapshotImage is the serialized form of a Store. JSON keeps snapshots
// readable with standard tools when a run has to be investigated; the state
// of a test cluster is small enough that its size does not matter.
type snapshotImage struct {
	Revision int64        `json:"revision"`
	KVs      []snapshotKV `json:"kvs"`
}

type snapshotKV struct {
	Key            []byte `json:"key"`
	Value          []byte `json:"value"`
	CreateRevision int64  `json:"create_revision"`
	ModRevision    int64  `json:"mod_revision"`
	Version        int64  `json:"version"`
}

// MarshalSnapshot serializes the whole store. Equal stores give equal bytes.
func (s *Store) MarshalSnapshot() ([]byte, error) {
	img := snapshotImage{Revision: s.revision, KVs: make([]snapshotKV, 0, len(s.sortedKeys))}
	for _, k := range s.sortedKeys {
		r := s.records[k]
		img.KVs = append(img.KVs, snapshotKV{
			Key:            []byte(k),
			Value:          r.value,
			CreateRevision: r.createRevision,
			ModRevision:    r.modRevision,
			Version:        r.version,
		})
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
	if img.Revision < 1 {
		return nil, fmt.Errorf("unmarshal kv snapshot: revision %d is below 1", img.Revision)
	}
	s := New()
	s.revision = img.Revision
	for _, kv := range img.KVs {
		if len(kv.Key) == 0 {
			return nil, fmt.Errorf("unmarshal kv snapshot: empty key")
		}
		key := string(kv.Key)
		s.records[key] = &record{
			value:          kv.Value,
			createRevision: kv.CreateRevision,
			modRevision:    kv.ModRevision,
			version:        kv.Version,
		}
		s.sortedKeys = append(s.sortedKeys, key)
		s.size += int64(len(key) + len(kv.Value))
	}
	if len(s.records) != len(s.sortedKeys) {
		return nil, fmt.Errorf("unmarshal kv snapshot: duplicate keys")
	}
	sort.Strings(s.sortedKeys)
	return s, nil
}
