package kvnode

import (
	"context"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.uber.org/zap"
)

// compactCheckInterval is how often the leader looks at the history's
// length.
const compactCheckInterval = time.Second

// autoCompact keeps the history bounded, as etcd's revision compactor does:
// the leader proposes, through raft, a compaction to the current revision
// minus AutoCompactionRetention whenever the history holds a tenth more
// revisions than that. Compaction is replicated like any write, so every
// node compacts at the same revision whatever its own flags say. It runs
// until the server stops; a zero retention disables it.
func (s *Server) autoCompact() {
	retention := s.cfg.AutoCompactionRetention
	if retention == 0 {
		return
	}
	slack := max(retention/10, 1)
	ticker := time.NewTicker(compactCheckInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stopping:
			return
		case <-ticker.C:
		}
		if !s.isLeader() {
			continue
		}
		s.stateMu.RLock()
		rev, compacted := s.state.kv.Revision(), s.state.kv.CompactRevision()
		s.stateMu.RUnlock()
		target := rev - retention
		if target < compacted+slack {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.requestTimeout())
		res, err := s.proposeRequest(ctx, &pb.InternalRaftRequest{Compaction: &pb.CompactionRequest{Revision: target}})
		cancel()
		if err == nil {
			err = res.err
		}
		if err != nil {
			s.lg.Warn("auto-compaction failed; will retry", zap.Int64("revision", target), zap.Error(err))
			continue
		}
		s.lg.Info("auto-compacted the history", zap.Int64("revision", target), zap.Int64("retention", retention))
	}
}
