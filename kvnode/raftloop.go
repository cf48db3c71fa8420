package kvnode

import (
	"errors"
	"fmt"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// maxCatchUpEntries is how many entries stay in memory behind a snapshot, so
// that a slightly slow follower gets entries rather than a whole snapshot.
const maxCatchUpEntries = 5000

// removalGrace lets the response to the MemberRemove that removed this node
// leave before the node shuts itself down.
const removalGrace = time.Second

// run is the raft loop: it ticks raft and handles each Ready in the order
// raft's documentation requires. It is the only goroutine that writes to
// storage and applies entries.
func (s *Server) run() {
	defer close(s.loopDone)
	ticker := time.NewTicker(s.cfg.HeartbeatInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			s.node.Tick()
		case rd := <-s.node.Ready():
			if err := s.handleReady(rd); err != nil {
				// Continuing after a failed write could acknowledge what is
				// not durable: stop instead.
				go s.stop(fmt.Errorf("raft loop: %w", err))
				return
			}
		case err := <-s.transport.ErrorC:
			go s.stop(transportError(err))
			return
		case <-s.stopping:
			return
		}
	}
}

// transportError explains why the transport gave up. rafthttp reports with an
// unexported error, found by its text, that the leader refused this member's
// streams because the cluster removed it, possibly before this member
// applied its own removal.
func transportError(err error) error {
	if strings.Contains(err.Error(), "permanently removed") {
		return fmt.Errorf("%w: %v", ErrRemoved, err)
	}
	return fmt.Errorf("peer transport: %w", err)
}

// splitMessages divides a Ready's messages into those that may leave before
// the Ready's entries and hard state are on disk, and those that must wait.
//
// The split is raft's own (raft.send, which queues exactly these types in
// msgsAfterAppend): only MsgAppResp, MsgVoteResp and MsgPreVoteResp vouch
// for this node's durable state, an appended log or a cast vote, and must
// wait for the write. Everything else may go at once: that is the leader
// writing to its disk in parallel with replicating to its followers (Raft
// thesis, section 10.2.1; raft's doc.go, step 2), which is safe because
// raft counts the leader's own acknowledgement only on Advance, after the
// write, so an entry is never committed on the strength of an undurable
// copy. It is also exactly what raft itself sends before persisting in its
// AsyncStorageWrites mode.
func splitMessages(msgs []*raftpb.Message) (early, durable []*raftpb.Message) {
	for _, m := range msgs {
		switch m.GetType() {
		case raftpb.MsgAppResp, raftpb.MsgVoteResp, raftpb.MsgPreVoteResp:
			durable = append(durable, m)
		default:
			early = append(early, m)
		}
	}
	return early, durable
}

func (s *Server) handleReady(rd raft.Ready) error {
	if rd.SoftState != nil {
		s.softStateChanged(rd.SoftState)
	}
	if rd.HardState != nil && !raft.IsEmptyHardState(rd.HardState) {
		s.term.Store(rd.HardState.GetTerm())
	}

	// 1. Send what promises nothing about this node's disk, while the disk
	// write below is in progress (see splitMessages).
	early, durable := splitMessages(rd.Messages)
	s.sendToPeers(early)

	// 2. Persist: snapshot, then entries and hard state (fsynced when
	// MustSync).
	hasSnapshot := !raft.IsEmptySnap(rd.Snapshot)
	if hasSnapshot {
		if err := s.disk.saveSnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	if err := s.disk.save(rd.HardState, rd.Entries); err != nil {
		return err
	}
	if hasSnapshot {
		if err := s.memStorage.ApplySnapshot(rd.Snapshot); err != nil {
			return fmt.Errorf("apply snapshot to raft storage: %w", err)
		}
		if err := s.restoreSnapshot(rd.Snapshot); err != nil {
			return err
		}
		if err := s.disk.releaseTo(rd.Snapshot.GetMetadata().GetIndex()); err != nil {
			return err
		}
	}
	if err := s.memStorage.Append(rd.Entries); err != nil {
		return fmt.Errorf("append to raft storage: %w", err)
	}

	// 3. Send the responses that vouch for what was just made durable.
	s.sendToPeers(durable)

	// 4. Apply, wake the watchers, and release the reads waiting on a
	// confirmed index.
	if err := s.applyEntries(rd.CommittedEntries); err != nil {
		return err
	}
	if len(rd.CommittedEntries) > 0 {
		s.kvChanged.notify()
	}
	for _, rs := range rd.ReadStates {
		s.reads.trigger(rs.RequestCtx, rs.Index)
	}
	if err := s.maybeSnapshot(); err != nil {
		return err
	}
	s.node.Advance()
	return nil
}

// softStateChanged records the leader raft reports. A node that is not the
// leader forgets the lease clock; a new leader starts it only once it has
// applied the first entry of its term (applyNormal).
func (s *Server) softStateChanged(st *raft.SoftState) {
	if old := s.lead.Swap(st.Lead); old != st.Lead {
		s.lg.Info("leader changed",
			zap.String("leader", fmt.Sprintf("%x", st.Lead)),
			zap.String("raft-state", st.RaftState.String()))
	}
	if st.Lead == raft.None {
		s.leaderlessSince.CompareAndSwap(0, time.Now().UnixNano())
	} else {
		s.leaderlessSince.Store(0)
	}
	if st.RaftState != raft.StateLeader {
		s.lessor.demote()
	}
}

// restoreSnapshot replaces the state machine with a snapshot the leader sent.
func (s *Server) restoreSnapshot(snap *raftpb.Snapshot) error {
	st, err := unmarshalReplicatedState(snap.GetData())
	if err != nil {
		return fmt.Errorf("restore snapshot from leader: %w", err)
	}
	s.stateMu.Lock()
	s.state = st
	members := st.members.Members()
	ttls := st.kv.LeaseTTLs()
	s.stateMu.Unlock()
	s.lessor.resync(ttls)
	s.kvChanged.notify()

	index := snap.GetMetadata().GetIndex()
	s.confState = snap.GetMetadata().GetConfState()
	s.snapshotIndex = index
	s.applied.set(index)
	s.syncTransportPeers(members)
	s.lg.Info("restored snapshot from leader", zap.Uint64("index", index))
	return nil
}

func (s *Server) applyEntries(entries []*raftpb.Entry) error {
	for _, e := range entries {
		if e.GetIndex() <= s.applied.get() {
			continue // covered by a snapshot already applied
		}
		switch e.GetType() {
		case raftpb.EntryNormal:
			s.applyNormal(e)
		case raftpb.EntryConfChange:
			if err := s.applyConfChange(e); err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %d has unsupported type %v", e.GetIndex(), e.GetType())
		}
		s.applied.set(e.GetIndex())
	}
	return nil
}

func (s *Server) applyNormal(e *raftpb.Entry) {
	if len(e.GetData()) == 0 {
		// The empty entry a new leader appends. Once the leader has applied
		// it, it has applied everything of the terms before: it starts the
		// lease clock, giving every lease a full TTL plus an election
		// timeout (etcd's Promote).
		if s.isLeader() {
			s.stateMu.RLock()
			ttls := s.state.kv.LeaseTTLs()
			s.stateMu.RUnlock()
			s.lessor.promote(ttls, s.cfg.ElectionTimeout)
		}
		return
	}
	var req pb.InternalRaftRequest
	if err := proto.Unmarshal(e.GetData(), &req); err != nil {
		// Every replica skips the same undecodable entry, so they stay equal.
		s.lg.Error("skipping undecodable entry", zap.Uint64("index", e.GetIndex()), zap.Error(err))
		return
	}
	s.stateMu.Lock()
	res, duplicate := s.state.applyRequest(&req)
	s.stateMu.Unlock()
	if duplicate {
		s.lg.Warn("skipping duplicate request", zap.Uint64("index", e.GetIndex()),
			zap.String("request-id", fmt.Sprintf("%x", req.GetHeader().GetID())))
		return
	}
	if res.err == nil {
		switch {
		case req.GetLeaseGrant() != nil:
			s.lessor.granted(req.GetLeaseGrant().GetID(), req.GetLeaseGrant().GetTTL())
		case req.GetLeaseRevoke() != nil:
			s.lessor.revoked(req.GetLeaseRevoke().GetID())
		}
	}
	res.term = e.GetTerm()
	s.proposals.trigger(req.GetHeader().GetID(), res)
}

func (s *Server) applyConfChange(e *raftpb.Entry) error {
	var cc raftpb.ConfChange
	if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
		return fmt.Errorf("decode conf change at %d: %w", e.GetIndex(), err)
	}
	s.stateMu.Lock()
	m, err := s.state.checkConfChange(&cc)
	if err == nil {
		err = s.state.applyConfChange(&cc, m)
	}
	s.stateMu.Unlock()
	if err != nil {
		// Rejected: raft still steps over it, as a change of node zero.
		s.lg.Warn("rejected conf change", zap.Uint64("index", e.GetIndex()), zap.Error(err))
		cc.NodeId = new(uint64(raft.None))
	}
	s.confState = s.node.ApplyConfChange(&cc)

	if err == nil {
		switch cc.GetType() {
		case raftpb.ConfChangeAddNode:
			s.addTransportPeer(m)
			s.lg.Info("member added", zap.String("member-id", fmt.Sprintf("%x", m.ID)), zap.Strings("peer-urls", m.PeerURLs))
		case raftpb.ConfChangeRemoveNode:
			id := cc.GetNodeId()
			s.lg.Info("member removed", zap.String("member-id", fmt.Sprintf("%x", id)))
			if id == s.memberID {
				time.AfterFunc(removalGrace, func() { s.stop(ErrRemoved) })
			} else {
				s.removeTransportPeer(id)
			}
		}
	}
	s.proposals.trigger(cc.GetId(), applyResult{err: err, term: e.GetTerm()})
	return nil
}

// maybeSnapshot takes a snapshot every SnapshotCount applied entries and
// compacts the in-memory log behind it.
func (s *Server) maybeSnapshot() error {
	applied := s.applied.get()
	if applied-s.snapshotIndex < s.cfg.SnapshotCount || s.confState == nil {
		return nil
	}
	s.stateMu.RLock()
	data, err := s.state.marshal()
	s.stateMu.RUnlock()
	if err != nil {
		return err
	}
	snap, err := s.memStorage.CreateSnapshot(applied, s.confState, data)
	if err != nil {
		return fmt.Errorf("create snapshot at %d: %w", applied, err)
	}
	if err := s.disk.saveSnapshot(snap); err != nil {
		return err
	}
	if err := s.disk.releaseTo(applied); err != nil {
		return err
	}
	catchUp := min(s.cfg.SnapshotCount, maxCatchUpEntries)
	if applied > catchUp {
		if err := s.memStorage.Compact(applied - catchUp); err != nil && !errors.Is(err, raft.ErrCompacted) {
			return fmt.Errorf("compact raft log to %d: %w", applied-catchUp, err)
		}
	}
	s.snapshotIndex = applied
	s.lg.Info("snapshot taken", zap.Uint64("index", applied), zap.Int("bytes", len(data)))
	return nil
}
