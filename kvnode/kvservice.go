package kvnode

import (
	"context"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/faultline/faultline/kvnode/kvstore"
)

// kvService serves etcd's KV API.
type kvService struct {
	pb.UnimplementedKVServer
	s *Server
}

// Range reads keys. A serializable range reads local state; any other range
// first passes the linearizable barrier (skipped under BugStaleRead).
func (k *kvService) Range(ctx context.Context, req *pb.RangeRequest) (*pb.RangeResponse, error) {
	if err := kvstore.ValidateRange(req); err != nil {
		return nil, err
	}
	if err := k.s.readBarrier(ctx, req.GetSerializable()); err != nil {
		return nil, err
	}
	k.s.stateMu.RLock()
	resp, err := k.s.state.kv.Range(req)
	k.s.stateMu.RUnlock()
	if err != nil {
		return nil, err
	}
	k.s.fillHeader(resp.Header, 0)
	return resp, nil
}

// Put writes one key through raft.
func (k *kvService) Put(ctx context.Context, req *pb.PutRequest) (*pb.PutResponse, error) {
	if err := kvstore.ValidatePut(req); err != nil {
		return nil, err
	}
	return proposeKV[*pb.PutResponse](ctx, k.s, &pb.InternalRaftRequest{Put: req})
}

// DeleteRange deletes keys through raft.
func (k *kvService) DeleteRange(ctx context.Context, req *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	if err := kvstore.ValidateDeleteRange(req); err != nil {
		return nil, err
	}
	return proposeKV[*pb.DeleteRangeResponse](ctx, k.s, &pb.InternalRaftRequest{DeleteRange: req})
}

// Txn runs a transaction. As in etcd, a Txn that cannot write is served
// locally after the read barrier (none if every range in it is
// serializable); any other Txn goes through raft.
func (k *kvService) Txn(ctx context.Context, req *pb.TxnRequest) (*pb.TxnResponse, error) {
	if err := kvstore.ValidateTxn(req); err != nil {
		return nil, err
	}
	if !kvstore.IsReadOnlyTxn(req) {
		return proposeKV[*pb.TxnResponse](ctx, k.s, &pb.InternalRaftRequest{Txn: req})
	}
	if err := k.s.readBarrier(ctx, kvstore.IsSerializableTxn(req)); err != nil {
		return nil, err
	}
	// Exclusive: Txn shares the write path, even when it writes nothing.
	k.s.stateMu.Lock()
	resp, err := k.s.state.kv.Txn(req)
	k.s.stateMu.Unlock()
	if err != nil {
		return nil, err
	}
	k.s.fillHeader(resp.Header, 0)
	return resp, nil
}

// Compact drops the history below a revision, through raft, so that every
// replica compacts at the same revision. Physical compaction is accepted:
// the history is dropped when the compaction is applied, so there is
// nothing more to wait for.
func (k *kvService) Compact(ctx context.Context, req *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	return proposeKV[*pb.CompactionResponse](ctx, k.s, &pb.InternalRaftRequest{Compaction: &pb.CompactionRequest{Revision: req.GetRevision(), Physical: req.GetPhysical()}})
}

// readBarrier is the linearizable barrier unless the read is serializable or
// the stale-read bug is on.
func (s *Server) readBarrier(ctx context.Context, serializable bool) error {
	if serializable || s.cfg.Bug == BugStaleRead {
		return nil
	}
	return s.linearizableBarrier(ctx)
}

// headed is a response with etcd's header.
type headed interface {
	proto.Message
	GetHeader() *pb.ResponseHeader
}

// proposeKV proposes a write, waits for it to apply, and returns its response
// with the header completed.
func proposeKV[R headed](ctx context.Context, s *Server, req *pb.InternalRaftRequest) (R, error) {
	var zero R
	res, err := s.proposeRequest(ctx, req)
	if err != nil {
		return zero, err
	}
	if res.err != nil {
		return zero, res.err
	}
	resp, ok := res.response.(R)
	if !ok {
		return zero, status.Error(codes.Internal, fmt.Sprintf("kvnode: applied request returned %T", res.response))
	}
	s.fillHeader(resp.GetHeader(), res.term)
	return resp, nil
}

// fillHeader completes a header whose revision the state machine set. term
// is the raft term the request was applied in, or 0 for the current term.
func (s *Server) fillHeader(h *pb.ResponseHeader, term uint64) {
	if h == nil {
		return
	}
	if term == 0 {
		term = s.term.Load()
	}
	h.ClusterId = s.clusterID
	h.MemberId = s.memberID
	h.RaftTerm = term
}

// newHeader returns a complete header at the current revision and term.
func (s *Server) newHeader() *pb.ResponseHeader {
	s.stateMu.RLock()
	h := &pb.ResponseHeader{Revision: s.state.kv.Revision()}
	s.stateMu.RUnlock()
	s.fillHeader(h, 0)
	return h
}
