package kvstore

import (
	"bytes"
	"sort"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// Range reads the keys req selects. It never changes the store.
//
// Supported: single keys and intervals (range_end, including "\x00"), limit,
// count_only, keys_only, sort_order and sort_target, the min/max create and
// mod revision filters, and any revision from the compaction point up to the
// current one (<= 0 means the current one). A revision below the compaction
// point fails with ErrGRPCCompacted and a newer one with ErrGRPCFutureRev,
// the errors etcd returns for the same requests. As in etcd, the header
// carries the current revision whichever revision was read.
func (s *Store) Range(req *pb.RangeRequest) (*pb.RangeResponse, error) {
	if err := ValidateRange(req); err != nil {
		return nil, err
	}
	return s.rangeKeys(req, s.revision, nil)
}

// rangeKeys is Range without request validation (Txn validates up front).
// visible is the revision the reader sees: inside a Txn that has already
// written, it is the revision the Txn will commit at, and pending is that
// Txn (nil outside a Txn).
func (s *Store) rangeKeys(req *pb.RangeRequest, visible int64, pending *writeTxn) (*pb.RangeResponse, error) {
	rev := req.GetRevision()
	switch {
	case rev > visible:
		return nil, rpctypes.ErrGRPCFutureRev
	case rev > 0 && rev < s.compactRevision:
		return nil, rpctypes.ErrGRPCCompacted
	case rev <= 0:
		rev = visible
	}

	keys, recs := s.recordsAt(req.GetKey(), req.GetRangeEnd(), rev, pending)
	resp := &pb.RangeResponse{
		Header: &pb.ResponseHeader{Revision: visible},
		Count:  int64(len(keys)),
	}
	if req.GetCountOnly() {
		return resp, nil
	}

	kvs := make([]*mvccpb.KeyValue, 0, len(keys))
	for i, k := range keys {
		r := recs[i]
		if !passesFilters(req, r) {
			continue
		}
		kvs = append(kvs, r.keyValue(k, req.GetKeysOnly()))
	}
	sortKeyValues(kvs, req.GetSortOrder(), req.GetSortTarget())

	if limit := req.GetLimit(); limit > 0 && int64(len(kvs)) > limit {
		kvs = kvs[:limit]
		resp.More = true
	}
	resp.Kvs = kvs
	return resp, nil
}

// passesFilters applies the min/max create and mod revision filters; zero
// means no bound, as in etcd.
func passesFilters(req *pb.RangeRequest, r *record) bool {
	if v := req.GetMinModRevision(); v > 0 && r.modRevision < v {
		return false
	}
	if v := req.GetMaxModRevision(); v > 0 && r.modRevision > v {
		return false
	}
	if v := req.GetMinCreateRevision(); v > 0 && r.createRevision < v {
		return false
	}
	if v := req.GetMaxCreateRevision(); v > 0 && r.createRevision > v {
		return false
	}
	return true
}

// sortKeyValues orders kvs, which arrive sorted by key ascending. As in etcd,
// no order on the key target keeps the key order, and no order on any other
// target means ascending.
func sortKeyValues(kvs []*mvccpb.KeyValue, order pb.RangeRequest_SortOrder, target pb.RangeRequest_SortTarget) {
	if order == pb.RangeRequest_NONE {
		if target == pb.RangeRequest_KEY {
			return
		}
		order = pb.RangeRequest_ASCEND
	}
	if order == pb.RangeRequest_ASCEND && target == pb.RangeRequest_KEY {
		return
	}
	compare := func(a, b *mvccpb.KeyValue) int {
		switch target {
		case pb.RangeRequest_VERSION:
			return compareInt64(a.Version, b.Version)
		case pb.RangeRequest_CREATE:
			return compareInt64(a.CreateRevision, b.CreateRevision)
		case pb.RangeRequest_MOD:
			return compareInt64(a.ModRevision, b.ModRevision)
		case pb.RangeRequest_VALUE:
			return bytes.Compare(a.Value, b.Value)
		default:
			return bytes.Compare(a.Key, b.Key)
		}
	}
	sort.SliceStable(kvs, func(i, j int) bool {
		if order == pb.RangeRequest_DESCEND {
			return compare(kvs[i], kvs[j]) > 0
		}
		return compare(kvs[i], kvs[j]) < 0
	})
}

// compareInt64 returns -1, 0 or 1 as a is less than, equal to or greater than b.
func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	default:
		return 0
	}
}
