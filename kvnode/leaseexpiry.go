package kvnode

import (
	"context"
	"fmt"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.uber.org/zap"
)

// leaseCheckInterval is how often the primary looks for expired leases, as
// etcd's lessor does.
const leaseCheckInterval = 500 * time.Millisecond

// expireLeases runs until the server stops. On the primary it proposes the
// revoke of every expired lease through raft, after making sure this node
// still leads (a leader cut off from its quorum must not act on its own
// clock; etcd checks the same). Under BugLeaseFollowerExpiry a node without
// a leader expires leases itself instead (expireLeasesLocally).
func (s *Server) expireLeases() {
	ticker := time.NewTicker(leaseCheckInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stopping:
			return
		case <-ticker.C:
		}
		if s.cfg.Bug == BugLeaseFollowerExpiry && !s.isLeader() {
			s.expireLeasesLocally()
			continue
		}
		due := s.lessor.dueForRevoke()
		if len(due) == 0 {
			continue
		}
		if !s.ensureLeadership() {
			s.lg.Warn("not revoking expired leases: this member is no longer the leader", zap.Int("leases", len(due)))
			continue
		}
		for _, id := range due {
			s.goWorker(func() { s.revokeExpired(id) })
		}
	}
}

// ensureLeadership reports whether this node is still the leader, confirmed
// by a quorum (a ReadIndex round), as etcd's ensureLeadership does.
func (s *Server) ensureLeadership() bool {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.requestTimeout())
	defer cancel()
	if err := s.linearizableBarrier(ctx); err != nil {
		return false
	}
	return s.isLeader()
}

// isLeader reports whether this node believes it is the leader.
func (s *Server) isLeader() bool { return s.lead.Load() == s.memberID }

func (s *Server) revokeExpired(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.requestTimeout())
	defer cancel()
	res, err := s.proposeRequest(ctx, &pb.InternalRaftRequest{LeaseRevoke: &pb.LeaseRevokeRequest{ID: id}})
	if err == nil {
		err = res.err
	}
	if err != nil {
		s.lg.Warn("failed to revoke expired lease", zap.String("lease-id", leaseIDString(id)), zap.Error(err))
		return
	}
	s.lg.Info("revoked expired lease", zap.String("lease-id", leaseIDString(id)))
}

// expireLeasesLocally is BugLeaseFollowerExpiry: once this node has known no
// leader for longer than a lease's TTL, it concludes the lease has expired
// and revokes it in its own state, outside raft.
func (s *Server) expireLeasesLocally() {
	since := s.leaderlessSince.Load()
	if since == 0 {
		return
	}
	leaderless := time.Since(time.Unix(0, since))
	s.stateMu.Lock()
	var revoked []int64
	for id, ttl := range s.state.kv.LeaseTTLs() {
		if leaderless <= seconds(ttl) {
			continue
		}
		if _, err := s.state.kv.LeaseRevoke(&pb.LeaseRevokeRequest{ID: id}); err == nil {
			revoked = append(revoked, id)
		}
	}
	rev := s.state.kv.Revision()
	s.stateMu.Unlock()
	for _, id := range revoked {
		s.lessor.revoked(id)
		s.lg.Warn("KVNODE BUG lease-follower-expiry: expired a lease by this node's clock and revoked it locally, outside raft",
			zap.String("lease-id", leaseIDString(id)), zap.Duration("leaderless", leaderless), zap.Int64("local-revision", rev))
	}
	if len(revoked) > 0 {
		s.kvChanged.notify()
	}
}

func leaseIDString(id int64) string { return fmt.Sprintf("%016x", id) }
