package kvstore

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// writeTxn groups the changes of one request: they all carry the same new
// revision, the global revision moves at most once, and a request that fails
// halfway is rolled back so that it changes nothing.
//
// Records are never mutated in place; a change installs a new record. The
// undo log can therefore keep the old pointer.
type writeTxn struct {
	s *Store
	// rev is the revision every change of this request carries.
	rev     int64
	changed bool
	// undo maps each touched key to its record before the request (nil when
	// the key did not exist); undoOrder keeps the keys in first-touch order.
	undo      map[string]*record
	undoOrder []string
}

func (s *Store) beginWrite() *writeTxn {
	return &writeTxn{s: s, rev: s.revision + 1, undo: make(map[string]*record)}
}

// remember saves the state of key before its first change in this request.
func (w *writeTxn) remember(key string) {
	if _, ok := w.undo[key]; ok {
		return
	}
	w.undo[key] = w.s.get(key)
	w.undoOrder = append(w.undoOrder, key)
}

// commit ends the request, records its changes in the history, and returns
// the revision the store is now at.
func (w *writeTxn) commit() int64 {
	if w.changed {
		w.s.revision = w.rev
		w.s.appendHistory(w.rev, w.undoOrder, w.undo)
	}
	return w.s.revision
}

// rollback undoes every change of the request.
func (w *writeTxn) rollback() {
	for i := len(w.undoOrder) - 1; i >= 0; i-- {
		key := w.undoOrder[i]
		if old := w.undo[key]; old != nil {
			w.s.set(key, old)
		} else {
			w.s.remove(key)
		}
	}
}

// Put stores a value, as etcd's KV.Put does, with prev_kv, ignore_value,
// ignore_lease and lease (which must exist: ErrGRPCLeaseNotFound). A put
// attaches the key to its lease and detaches it from the one it had; a put
// without a lease leaves the key on none.
func (s *Store) Put(req *pb.PutRequest) (*pb.PutResponse, error) {
	if err := ValidatePut(req); err != nil {
		return nil, err
	}
	w := s.beginWrite()
	resp, err := w.put(req)
	if err != nil {
		w.rollback()
		return nil, err
	}
	resp.Header = &pb.ResponseHeader{Revision: w.commit()}
	return resp, nil
}

// DeleteRange removes the keys req selects, as etcd's KV.DeleteRange does.
// Deleting nothing is not a change and leaves the revision alone.
func (s *Store) DeleteRange(req *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	if err := ValidateDeleteRange(req); err != nil {
		return nil, err
	}
	w := s.beginWrite()
	resp := w.deleteRange(req)
	resp.Header = &pb.ResponseHeader{Revision: w.commit()}
	return resp, nil
}

func (w *writeTxn) put(req *pb.PutRequest) (*pb.PutResponse, error) {
	key := string(req.GetKey())
	old := w.s.get(key)
	lease := req.GetLease()
	if lease != 0 && w.s.leases[lease] == nil {
		return nil, rpctypes.ErrGRPCLeaseNotFound
	}
	if (req.GetIgnoreValue() || req.GetIgnoreLease()) && old == nil {
		return nil, rpctypes.ErrGRPCKeyNotFound
	}
	value := req.GetValue()
	if req.GetIgnoreValue() {
		value = old.value
	}
	if req.GetIgnoreLease() {
		lease = old.lease
	}

	resp := &pb.PutResponse{}
	if req.GetPrevKv() && old != nil {
		resp.PrevKv = old.keyValue(key, false)
	}
	next := &record{
		value:          append([]byte(nil), value...),
		createRevision: w.rev,
		modRevision:    w.rev,
		version:        1,
		lease:          lease,
	}
	if old != nil {
		next.createRevision = old.createRevision
		next.version = old.version + 1
	}
	w.remember(key)
	w.s.set(key, next)
	w.changed = true
	return resp, nil
}

func (w *writeTxn) deleteRange(req *pb.DeleteRangeRequest) *pb.DeleteRangeResponse {
	// keysIn returns a view of sortedKeys, which remove edits: copy first.
	keys := append([]string(nil), w.s.keysIn(req.GetKey(), req.GetRangeEnd())...)
	resp := &pb.DeleteRangeResponse{Deleted: int64(len(keys))}
	for _, key := range keys {
		if req.GetPrevKv() {
			resp.PrevKvs = append(resp.PrevKvs, w.s.get(key).keyValue(key, false))
		}
		w.remember(key)
		w.s.remove(key)
		w.changed = true
	}
	return resp
}
