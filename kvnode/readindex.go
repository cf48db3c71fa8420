package kvnode

import (
	"context"
	"encoding/binary"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// readIndexRetry is how long a ReadIndex request may go unanswered before it
// is sent again. raft drops ReadIndex requests silently when there is no
// leader, or when a new leader has not committed an entry in its term yet.
const readIndexRetry = 500 * time.Millisecond

// linearizableBarrier returns once this node's state machine reflects every
// write committed before the call: it asks raft for a read index (the
// leader's commit index, confirmed by a quorum of heartbeats), then waits
// until the local applied index reaches it.
//
// Each attempt carries a fresh request context, so a late answer to an
// abandoned attempt can never satisfy a later one. When the node has had no
// leader for a whole election timeout, the read fails with ErrGRPCNoLeader
// rather than waiting for the full request timeout.
func (s *Server) linearizableBarrier(ctx context.Context) error {
	waitCtx, cancel := context.WithTimeout(ctx, s.cfg.requestTimeout())
	defer cancel()
	var leaderlessSince time.Time
	for {
		if s.lead.Load() == 0 {
			if leaderlessSince.IsZero() {
				leaderlessSince = time.Now()
			} else if time.Since(leaderlessSince) >= s.cfg.ElectionTimeout {
				return rpctypes.ErrGRPCNoLeader
			}
		} else {
			leaderlessSince = time.Time{}
		}

		requestCtx := binary.BigEndian.AppendUint64(nil, newRequestID())
		confirmed := s.reads.register(requestCtx)
		if err := s.node.ReadIndex(waitCtx, requestCtx); err != nil {
			s.reads.cancel(requestCtx)
			return s.proposeError(ctx, err)
		}
		retry := time.NewTimer(readIndexRetry)
		select {
		case index := <-confirmed:
			retry.Stop()
			if err := s.applied.waitFor(waitCtx, index); err != nil {
				return s.waitError(ctx)
			}
			return nil
		case <-retry.C:
			s.reads.cancel(requestCtx)
		case <-waitCtx.Done():
			retry.Stop()
			s.reads.cancel(requestCtx)
			if s.lead.Load() == 0 && ctx.Err() == nil {
				return rpctypes.ErrGRPCNoLeader
			}
			return s.waitError(ctx)
		case <-s.stopping:
			retry.Stop()
			s.reads.cancel(requestCtx)
			return rpctypes.ErrGRPCStopped
		}
	}
}
