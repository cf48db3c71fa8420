package kvnode

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/faultline/faultline/kvnode/membership"
)

// clusterService serves etcd's Cluster API: list, add and remove members.
// Learners (and so MemberPromote) and MemberUpdate are not supported.
type clusterService struct {
	pb.UnimplementedClusterServer
	s *Server
}

// MemberList returns the applied membership; with linearizable set, only
// after the linearizable read barrier.
func (c *clusterService) MemberList(ctx context.Context, req *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	if req.GetLinearizable() {
		if err := c.s.readBarrier(ctx, false); err != nil {
			return nil, err
		}
	}
	return &pb.MemberListResponse{Header: c.s.newHeader(), Members: c.s.memberList()}, nil
}

// MemberAdd adds a voting member through a raft conf change. Its ID mixes the
// request time into the hash of its peer URLs and the token (see package
// membership), so the new node learns it from the cluster when it joins.
func (c *clusterService) MemberAdd(ctx context.Context, req *pb.MemberAddRequest) (*pb.MemberAddResponse, error) {
	if req.GetIsLearner() {
		return nil, status.Error(codes.Unimplemented, "kvnode: learners are not supported")
	}
	if err := validateURLs(req.GetPeerURLs()); err != nil {
		return nil, rpctypes.ErrGRPCMemberBadURLs
	}
	now := time.Now()
	m := membership.Member{
		ID:       membership.ComputeMemberID(req.GetPeerURLs(), c.s.cfg.InitialClusterToken, &now),
		PeerURLs: req.GetPeerURLs(),
	}
	c.s.stateMu.RLock()
	err := c.s.state.members.ValidateAdd(m)
	c.s.stateMu.RUnlock()
	if err != nil {
		return nil, membershipError(err)
	}
	memberJSON, err := json.Marshal(m)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encode member: %v", err)
	}
	cc := &raftpb.ConfChange{
		Id:      new(newRequestID()),
		Type:    raftpb.ConfChangeAddNode.Enum(),
		NodeId:  new(m.ID),
		Context: memberJSON,
	}
	if err := c.s.changeMembership(ctx, cc); err != nil {
		return nil, err
	}
	return &pb.MemberAddResponse{Header: c.s.newHeader(), Member: memberToPB(m), Members: c.s.memberList()}, nil
}

// MemberRemove removes a member through a raft conf change. A removed node
// shuts itself down once it applies its own removal.
func (c *clusterService) MemberRemove(ctx context.Context, req *pb.MemberRemoveRequest) (*pb.MemberRemoveResponse, error) {
	c.s.stateMu.RLock()
	err := c.s.state.members.ValidateRemove(req.GetID())
	c.s.stateMu.RUnlock()
	if err != nil {
		return nil, membershipError(err)
	}
	cc := &raftpb.ConfChange{
		Id:     new(newRequestID()),
		Type:   raftpb.ConfChangeRemoveNode.Enum(),
		NodeId: new(req.GetID()),
	}
	if err := c.s.changeMembership(ctx, cc); err != nil {
		return nil, err
	}
	return &pb.MemberRemoveResponse{Header: c.s.newHeader(), Members: c.s.memberList()}, nil
}

// changeMembership proposes cc and waits until it is applied.
func (s *Server) changeMembership(ctx context.Context, cc *raftpb.ConfChange) error {
	res, err := s.proposeConfChange(ctx, cc)
	if err != nil {
		return err
	}
	return membershipError(res.err)
}

// memberList returns the applied membership in etcd's wire type.
func (s *Server) memberList() []*pb.Member {
	s.stateMu.RLock()
	members := s.state.members.Members()
	s.stateMu.RUnlock()
	out := make([]*pb.Member, len(members))
	for i, m := range members {
		out[i] = memberToPB(m)
	}
	return out
}

func memberToPB(m membership.Member) *pb.Member {
	return &pb.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs}
}

// membershipError maps membership's errors to etcd's.
func membershipError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, membership.ErrIDExists):
		return rpctypes.ErrGRPCMemberExist
	case errors.Is(err, membership.ErrPeerURLExists):
		return rpctypes.ErrGRPCPeerURLExist
	case errors.Is(err, membership.ErrIDNotFound), errors.Is(err, membership.ErrIDRemoved):
		return rpctypes.ErrGRPCMemberNotFound
	default:
		if _, ok := status.FromError(err); ok {
			return err
		}
		return status.Error(codes.FailedPrecondition, err.Error())
	}
}
