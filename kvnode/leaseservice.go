package kvnode

import (
	"context"
	"errors"
	"io"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/status"
)

// leaseRetry is the pause between attempts of a renewal or TTL lookup that
// found no primary to serve it (no leader yet, or a leader not yet promoted),
// as etcd throttles its forwarding.
const leaseRetry = 50 * time.Millisecond

// leaseService serves etcd's Lease API. Grants and revokes go through raft;
// keepalives and TTL lookups are served by the leader, to which a follower
// forwards them over the peer network (leaseforward.go), as etcd does; the
// list of leases is read from local state.
type leaseService struct {
	pb.UnimplementedLeaseServer
	s *Server
}

// LeaseGrant creates a lease through raft. As in etcd, a request without an
// ID gets a random positive one, and a TTL below the minimum is raised to it.
func (l *leaseService) LeaseGrant(ctx context.Context, req *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	id := req.GetID()
	for id == 0 {
		id = int64(newRequestID() & (1<<63 - 1))
	}
	grant := &pb.LeaseGrantRequest{ID: id, TTL: max(req.GetTTL(), l.s.cfg.minLeaseTTL())}
	return proposeKV[*pb.LeaseGrantResponse](ctx, l.s, &pb.InternalRaftRequest{LeaseGrant: grant})
}

// LeaseRevoke deletes a lease and its keys through raft, in one revision.
func (l *leaseService) LeaseRevoke(ctx context.Context, req *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	return proposeKV[*pb.LeaseRevokeResponse](ctx, l.s, &pb.InternalRaftRequest{LeaseRevoke: &pb.LeaseRevokeRequest{ID: req.GetID()}})
}

// LeaseTimeToLive reports a lease's remaining and granted TTL, and its keys
// if asked, from the leader's clock. A lease that does not exist is not an
// error: as in etcd, the answer has TTL -1.
func (l *leaseService) LeaseTimeToLive(ctx context.Context, req *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	resp, err := l.s.leaseTimeToLive(ctx, req)
	if errors.Is(err, errLeaseNotFound) {
		resp, err = &pb.LeaseTimeToLiveResponse{Header: &pb.ResponseHeader{}, ID: req.GetID(), TTL: -1}, nil
	}
	if err != nil {
		return nil, err
	}
	resp.Header = l.s.newHeader()
	return resp, nil
}

// LeaseLeases lists the leases of the local state, by ID.
func (l *leaseService) LeaseLeases(ctx context.Context, _ *pb.LeaseLeasesRequest) (*pb.LeaseLeasesResponse, error) {
	l.s.stateMu.RLock()
	ids := l.s.state.kv.LeaseIDs()
	l.s.stateMu.RUnlock()
	resp := &pb.LeaseLeasesResponse{Header: l.s.newHeader(), Leases: make([]*pb.LeaseStatus, len(ids))}
	for i, id := range ids {
		resp.Leases[i] = &pb.LeaseStatus{ID: id}
	}
	return resp, nil
}

// LeaseKeepAlive renews leases for as long as the client streams requests.
// Each answer carries the lease's TTL, or 0 when the lease does not exist
// (the way etcd tells a client its lease is gone).
func (l *leaseService) LeaseKeepAlive(stream pb.Lease_LeaseKeepAliveServer) error {
	errc := make(chan error, 1)
	go func() { errc <- l.keepAlive(stream) }()
	select {
	case err := <-errc:
		return err
	case <-stream.Context().Done():
		// The client went away, or the stream was cut because this node
		// lost its leader (see leaderMonitor).
		return streamError(stream.Context(), status.FromContextError(stream.Context().Err()).Err())
	}
}

func (l *leaseService) keepAlive(stream pb.Lease_LeaseKeepAliveServer) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		// As in etcd, the header is taken before the renewal, so that its
		// revision is not above one at which the lease was revoked.
		resp := &pb.LeaseKeepAliveResponse{ID: req.GetID(), Header: l.s.newHeader()}
		ttl, err := l.s.leaseRenew(stream.Context(), req.GetID())
		switch {
		case errors.Is(err, errLeaseNotFound):
			ttl = 0
		case err != nil:
			return err
		}
		resp.TTL = ttl
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// errLeaseNotFound is a lease lookup's "no such lease", kept apart from the
// gRPC error because the Lease API answers it with a TTL, not an error.
var errLeaseNotFound = errors.New("kvnode: lease not found")

// leaseRenew renews lease id on the leader: here if this node leads,
// forwarded to the leader otherwise. It retries, within the request
// timeout, while there is no primary to serve it.
func (s *Server) leaseRenew(ctx context.Context, id int64) (int64, error) {
	var ttl int64
	err := s.retryOnPrimary(ctx, func(ctx context.Context, lead uint64) error {
		var err error
		if lead == s.memberID {
			ttl, err = s.renewAsLeader(ctx, id)
		} else {
			ttl, err = s.forwardRenew(ctx, lead, id)
		}
		return err
	})
	return ttl, err
}

// leaseTimeToLive answers a TTL lookup from the leader's clock, here or
// forwarded.
func (s *Server) leaseTimeToLive(ctx context.Context, req *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	var resp *pb.LeaseTimeToLiveResponse
	err := s.retryOnPrimary(ctx, func(ctx context.Context, lead uint64) error {
		var err error
		if lead == s.memberID {
			resp, err = s.timeToLiveAsLeader(ctx, req)
		} else {
			resp, err = s.forwardTimeToLive(ctx, lead, req)
		}
		return err
	})
	return resp, err
}

// retryOnPrimary calls try with the current leader until it returns
// anything but errNotPrimary (no leader, a leader not yet promoted, or one
// that could not be reached), within the request timeout.
func (s *Server) retryOnPrimary(ctx context.Context, try func(ctx context.Context, lead uint64) error) error {
	waitCtx, cancel := context.WithTimeout(ctx, s.cfg.requestTimeout())
	defer cancel()
	for {
		if lead := s.lead.Load(); lead != 0 {
			err := try(waitCtx, lead)
			if !errors.Is(err, errNotPrimary) {
				return err
			}
		}
		select {
		case <-waitCtx.Done():
			if s.lead.Load() == 0 && ctx.Err() == nil {
				return rpctypes.ErrGRPCNoLeader
			}
			return s.waitError(ctx)
		case <-s.stopping:
			return rpctypes.ErrGRPCStopped
		case <-time.After(leaseRetry):
		}
	}
}

// renewAsLeader renews a lease on this node, the leader. Leadership is
// confirmed by a quorum first, so that a deposed leader that does not know
// it yet cannot renew; the same round makes the local state current, so a
// lease granted just before is found. A lease past its expiry is not
// renewed: the renewal waits for its revoke (then the lease is gone) or for
// a change of leader (then the new leader decides).
func (s *Server) renewAsLeader(ctx context.Context, id int64) (int64, error) {
	if err := s.linearizableBarrier(ctx); err != nil || !s.isLeader() {
		return 0, errNotPrimary
	}
	for {
		s.stateMu.RLock()
		ttl, _, ok := s.state.kv.Lease(id)
		var wait <-chan struct{}
		err := errLeaseNotFound
		if ok {
			wait, err = s.lessor.renew(id, ttl)
		}
		s.stateMu.RUnlock()
		if !errors.Is(err, errLeaseExpired) {
			return ttl, err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return 0, s.waitError(ctx)
		case <-s.stopping:
			return 0, rpctypes.ErrGRPCStopped
		}
	}
}

// timeToLiveAsLeader answers a TTL lookup on this node, the leader. The
// remaining TTL is truncated to whole seconds, as etcd reports it.
func (s *Server) timeToLiveAsLeader(ctx context.Context, req *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	if err := s.linearizableBarrier(ctx); err != nil || !s.isLeader() {
		return nil, errNotPrimary
	}
	s.stateMu.RLock()
	ttl, keys, ok := s.state.kv.Lease(req.GetID())
	var remaining time.Duration
	err := errLeaseNotFound
	if ok {
		remaining, err = s.lessor.remaining(req.GetID(), ttl)
	}
	s.stateMu.RUnlock()
	if err != nil {
		return nil, err
	}
	resp := &pb.LeaseTimeToLiveResponse{ID: req.GetID(), TTL: int64(remaining.Seconds()), GrantedTTL: ttl}
	if req.GetKeys() {
		resp.Keys = make([][]byte, len(keys))
		for i, k := range keys {
			resp.Keys[i] = []byte(k)
		}
	}
	return resp, nil
}
