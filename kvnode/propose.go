package kvnode

import (
	"context"
	"errors"
	"math/rand/v2"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// newRequestID returns a random non-zero 64-bit ID. IDs identify proposals
// across the whole cluster: the apply loop hands each result to the waiter
// registered under its ID, and the state machine drops an ID it has applied
// recently. Random IDs need no coordination between members or across
// restarts; two equal IDs among the few thousand the state machine remembers
// have a probability near 2^-40.
func newRequestID() uint64 {
	for {
		if id := rand.Uint64(); id != 0 {
			return id
		}
	}
}

// proposeRequest puts a client write into the raft log and waits until this
// node has applied it, then returns what applying it produced.
//
// Errors follow etcd so that clientv3 treats them the same way:
//   - raft dropped the proposal (no leader): ErrGRPCNoLeader; the write
//     certainly did not happen;
//   - the proposal is in the log but not applied within the request timeout:
//     ErrGRPCTimeout; the outcome is unknown;
//   - the server is shutting down: ErrGRPCStopped.
//
// Under BugEarlyAck a write returns as soon as raft accepted the proposal,
// with a response computed on a copy of the local state.
func (s *Server) proposeRequest(ctx context.Context, req *pb.InternalRaftRequest) (applyResult, error) {
	id := newRequestID()
	req.Header = &pb.RequestHeader{ID: id}
	data, err := proto.Marshal(req)
	if err != nil {
		return applyResult{}, status.Errorf(codes.Internal, "encode request: %v", err)
	}
	if s.cfg.Bug == BugEarlyAck && req.GetClusterMemberAttrSet() == nil {
		return s.proposeEarlyAck(ctx, req, data)
	}
	return s.proposeAndWait(ctx, id, func(ctx context.Context) error {
		return s.node.Propose(ctx, data)
	})
}

// proposeConfChange proposes a membership change and waits until it is
// applied here. cc.Id must be a fresh request ID.
func (s *Server) proposeConfChange(ctx context.Context, cc *raftpb.ConfChange) (applyResult, error) {
	return s.proposeAndWait(ctx, cc.GetId(), func(ctx context.Context) error {
		return s.node.ProposeConfChange(ctx, cc)
	})
}

func (s *Server) proposeAndWait(ctx context.Context, id uint64, propose func(context.Context) error) (applyResult, error) {
	waitCtx, cancel := context.WithTimeout(ctx, s.cfg.requestTimeout())
	defer cancel()
	ch := s.proposals.register(id)
	if err := propose(waitCtx); err != nil {
		s.proposals.cancel(id)
		return applyResult{}, s.proposeError(ctx, err)
	}
	select {
	case res := <-ch:
		return res, nil
	case <-waitCtx.Done():
		s.proposals.cancel(id)
		return applyResult{}, s.waitError(ctx)
	case <-s.stopping:
		s.proposals.cancel(id)
		return applyResult{}, rpctypes.ErrGRPCStopped
	}
}

// proposeEarlyAck is the early-ack bug: it acknowledges once raft has taken
// the proposal, before anything is committed.
func (s *Server) proposeEarlyAck(ctx context.Context, req *pb.InternalRaftRequest, data []byte) (applyResult, error) {
	waitCtx, cancel := context.WithTimeout(ctx, s.cfg.requestTimeout())
	defer cancel()
	if err := s.node.Propose(waitCtx, data); err != nil {
		return applyResult{}, s.proposeError(ctx, err)
	}
	s.stateMu.RLock()
	scratch := &replicatedState{kv: s.state.kv.Clone(), members: s.state.members.Clone(), recentSet: make(map[uint64]bool)}
	s.stateMu.RUnlock()
	res, _ := scratch.applyRequest(req)
	res.term = s.term.Load()
	return res, nil
}

// proposeError maps an error from raft's Propose, ReadIndex or
// ProposeConfChange. ctx is the client's context.
func (s *Server) proposeError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, raft.ErrProposalDropped):
		return rpctypes.ErrGRPCNoLeader
	case errors.Is(err, raft.ErrStopped):
		return rpctypes.ErrGRPCStopped
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return s.waitError(ctx)
	default:
		return status.Errorf(status.Code(rpctypes.ErrGRPCTimeout), "propose: %v", err)
	}
}

// waitError explains why a wait ended early: the client gave up (its own
// context error), or the request timeout passed (etcd's timeout error).
func (s *Server) waitError(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	select {
	case <-s.stopping:
		return rpctypes.ErrGRPCStopped
	default:
	}
	return rpctypes.ErrGRPCTimeout
}
