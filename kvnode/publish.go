package kvnode

import (
	"context"
	"slices"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/membershippb"
	"go.uber.org/zap"
)

// publishRetry is the pause between attempts to publish attributes, and
// between looks for a leader to publish through.
const publishRetry = 100 * time.Millisecond

// publishAttributes records this member's name and client URLs in the
// replicated membership, through raft, so that MemberList shows them on
// every node (as etcd's publish does). It retries until the applied
// membership holds them, or the server stops.
func (s *Server) publishAttributes() {
	for {
		s.stateMu.RLock()
		m, ok := s.state.members.Member(s.memberID)
		s.stateMu.RUnlock()
		if ok && m.Name == s.cfg.Name && slices.Equal(m.ClientURLs, s.cfg.AdvertiseClientURLs) {
			return
		}
		if ok && s.lead.Load() != 0 {
			req := &pb.InternalRaftRequest{ClusterMemberAttrSet: &membershippb.ClusterMemberAttrSetRequest{
				Member_ID: s.memberID,
				MemberAttributes: &membershippb.Attributes{
					Name:       s.cfg.Name,
					ClientUrls: s.cfg.AdvertiseClientURLs,
				},
			}}
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.requestTimeout())
			res, err := s.proposeRequest(ctx, req)
			cancel()
			if err == nil {
				err = res.err
			}
			if err != nil {
				s.lg.Info("publishing member attributes failed; will retry", zap.Error(err))
			} else {
				s.lg.Info("published member attributes", zap.Strings("client-urls", s.cfg.AdvertiseClientURLs))
			}
		}
		select {
		case <-s.stopping:
			return
		case <-time.After(publishRetry):
		}
	}
}
