package kvstore

import (
	"bytes"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Txn runs etcd's transaction: if every compare holds, the success branch
// runs, otherwise the failure branch. Branches hold ranges, puts, deletes and
// nested Txns. Reads in a branch see the writes made before them in the same
// Txn. The whole Txn is one revision: it increments the global revision once
// if anything changed, and not at all otherwise. A Txn that fails (for
// example a put with ignore_value on a missing key) changes nothing.
func (s *Store) Txn(req *pb.TxnRequest) (*pb.TxnResponse, error) {
	if err := ValidateTxn(req); err != nil {
		return nil, err
	}
	w := s.beginWrite()
	resp, err := w.txn(req)
	if err != nil {
		w.rollback()
		return nil, err
	}
	rev := w.commit()
	setWriteHeaders(resp, rev)
	return resp, nil
}

// IsReadOnlyTxn reports whether neither branch of req, nor of any nested Txn,
// can write. Such a Txn can be served without going through the raft log.
func IsReadOnlyTxn(req *pb.TxnRequest) bool {
	for _, ops := range [][]*pb.RequestOp{req.GetSuccess(), req.GetFailure()} {
		for _, op := range ops {
			switch {
			case op.GetRequestPut() != nil, op.GetRequestDeleteRange() != nil:
				return false
			case op.GetRequestTxn() != nil && !IsReadOnlyTxn(op.GetRequestTxn()):
				return false
			}
		}
	}
	return true
}

// IsSerializableTxn reports whether every range in req, and in any nested
// Txn, asks for a serializable read.
func IsSerializableTxn(req *pb.TxnRequest) bool {
	for _, ops := range [][]*pb.RequestOp{req.GetSuccess(), req.GetFailure()} {
		for _, op := range ops {
			if r := op.GetRequestRange(); r != nil && !r.GetSerializable() {
				return false
			}
			if t := op.GetRequestTxn(); t != nil && !IsSerializableTxn(t) {
				return false
			}
		}
	}
	return true
}

func (w *writeTxn) txn(req *pb.TxnRequest) (*pb.TxnResponse, error) {
	succeeded := w.s.compareAll(req.GetCompare())
	ops := req.GetSuccess()
	if !succeeded {
		ops = req.GetFailure()
	}
	resp := &pb.TxnResponse{
		Header:    &pb.ResponseHeader{},
		Succeeded: succeeded,
		Responses: make([]*pb.ResponseOp, 0, len(ops)),
	}
	for _, op := range ops {
		var out *pb.ResponseOp
		switch {
		case op.GetRequestRange() != nil:
			visible := w.s.revision
			if w.changed {
				visible = w.rev
			}
			r, err := w.s.rangeKeys(op.GetRequestRange(), visible, w)
			if err != nil {
				return nil, err
			}
			out = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseRange{ResponseRange: r}}
		case op.GetRequestPut() != nil:
			r, err := w.put(op.GetRequestPut())
			if err != nil {
				return nil, err
			}
			out = &pb.ResponseOp{Response: &pb.ResponseOp_ResponsePut{ResponsePut: r}}
		case op.GetRequestDeleteRange() != nil:
			r := w.deleteRange(op.GetRequestDeleteRange())
			out = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseDeleteRange{ResponseDeleteRange: r}}
		case op.GetRequestTxn() != nil:
			r, err := w.txn(op.GetRequestTxn())
			if err != nil {
				return nil, err
			}
			out = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseTxn{ResponseTxn: r}}
		default:
			return nil, ErrEmptyRequestOp
		}
		resp.Responses = append(resp.Responses, out)
	}
	return resp, nil
}

// setWriteHeaders stamps the final revision on the Txn response and on the
// responses of its writes and nested Txns. Range responses keep the revision
// they read at.
func setWriteHeaders(resp *pb.TxnResponse, rev int64) {
	resp.Header = &pb.ResponseHeader{Revision: rev}
	for _, op := range resp.GetResponses() {
		switch {
		case op.GetResponsePut() != nil:
			op.GetResponsePut().Header = &pb.ResponseHeader{Revision: rev}
		case op.GetResponseDeleteRange() != nil:
			op.GetResponseDeleteRange().Header = &pb.ResponseHeader{Revision: rev}
		case op.GetResponseTxn() != nil:
			setWriteHeaders(op.GetResponseTxn(), rev)
		}
	}
}

// compareAll reports whether every compare holds.
func (s *Store) compareAll(cmps []*pb.Compare) bool {
	for _, c := range cmps {
		if !s.compare(c) {
			return false
		}
	}
	return true
}

// compare evaluates one compare against every key it names. As in etcd, a
// compare on keys that do not exist sees zero versions and revisions, and a
// VALUE compare on a missing key is always false: gRPC cannot tell an empty
// value from a missing one, so no value comparison can be meaningful.
func (s *Store) compare(c *pb.Compare) bool {
	keys := s.keysIn(c.GetKey(), c.GetRangeEnd())
	if len(keys) == 0 {
		if c.GetTarget() == pb.Compare_VALUE {
			return false
		}
		return compareRecord(c, &record{})
	}
	for _, k := range keys {
		if !compareRecord(c, s.get(k)) {
			return false
		}
	}
	return true
}

// compareRecord applies c's target and result to one key's record.
func compareRecord(c *pb.Compare, r *record) bool {
	var order int
	switch c.GetTarget() {
	case pb.Compare_VALUE:
		order = bytes.Compare(r.value, c.GetValue())
	case pb.Compare_VERSION:
		order = compareInt64(r.version, c.GetVersion())
	case pb.Compare_CREATE:
		order = compareInt64(r.createRevision, c.GetCreateRevision())
	case pb.Compare_MOD:
		order = compareInt64(r.modRevision, c.GetModRevision())
	case pb.Compare_LEASE:
		order = compareInt64(r.lease, c.GetLease())
	default:
		return false
	}
	switch c.GetResult() {
	case pb.Compare_EQUAL:
		return order == 0
	case pb.Compare_NOT_EQUAL:
		return order != 0
	case pb.Compare_GREATER:
		return order > 0
	case pb.Compare_LESS:
		return order < 0
	default:
		return false
	}
}
