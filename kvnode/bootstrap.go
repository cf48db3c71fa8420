package kvnode

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/raft/v3"
	"go.uber.org/zap"

	"github.com/faultline/faultline/kvnode/membership"
)

// joinTimeout bounds how long a joining node looks for a running member.
const joinTimeout = 15 * time.Second

// bootPlan is how the raft node must be started.
type bootPlan struct {
	// restart means raft.RestartNode: state comes from storage (possibly
	// empty, for a node joining a running cluster). Otherwise raft.StartNode
	// bootstraps a new cluster from peers.
	restart bool
	peers   []raft.Peer
	// knownMembers are the members the transport connects to at start.
	knownMembers []membership.Member
}

// bootstrap recovers durable state, or creates it for a member that never
// ran. It sets the member and cluster IDs, storage and the state machine.
//
// Three cases, as in etcd:
//   - a WAL exists: the flags about the cluster are ignored; the IDs come from
//     the WAL, the state from the newest snapshot plus the log after it;
//   - new cluster: IDs are computed from --initial-cluster and the token;
//   - existing cluster: the node asks a running member for the membership,
//     finds itself by its peer URLs, and starts empty; the leader then sends
//     it the log or a snapshot.
//
// Under BugLostRestart the WAL was just discarded, and the recorded identity
// (memberIdentity), not --initial-cluster-state, chooses between the last
// two.
func (s *Server) bootstrap() (*bootPlan, error) {
	s.memStorage = raft.NewMemoryStorage()
	s.state = newReplicatedState()
	s.applied = newAppliedIndex(0)

	if hasDurableState(s.cfg.DataDir) {
		s.recovered = true
		return s.recover()
	}
	members, err := membership.ParseInitialCluster(s.cfg.InitialCluster, s.cfg.InitialClusterToken)
	if err != nil {
		return nil, fmt.Errorf("parse --initial-cluster: %w", err)
	}
	founder, err := s.founder()
	if err != nil {
		return nil, err
	}
	if founder {
		return s.bootstrapNew(members)
	}
	return s.bootstrapJoin(members)
}

// founder reports whether a member without a WAL bootstraps the initial
// cluster (true) or joins a running one. --initial-cluster-state decides,
// except under BugLostRestart: a member that lost its WAL re-enters the
// cluster the way its recorded identity says it first did (see
// memberIdentity), whatever the restart's flags say.
func (s *Server) founder() (bool, error) {
	fromFlags := s.cfg.InitialClusterState == ClusterStateNew
	if s.cfg.Bug != BugLostRestart {
		return fromFlags, nil
	}
	id, found, err := readIdentity(s.cfg.DataDir)
	if err != nil || !found {
		return fromFlags, err
	}
	if id.Founder != fromFlags {
		s.lg.Warn("KVNODE BUG lost-restart: re-entering the cluster as the member first did, not as the flags say",
			zap.Bool("founder", id.Founder), zap.String("initial-cluster-state", s.cfg.InitialClusterState))
	}
	return id.Founder, nil
}

func (s *Server) recover() (*bootPlan, error) {
	disk, rec, err := openDiskStorage(s.lg, s.cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("recover from %s: %w", s.cfg.DataDir, err)
	}
	s.disk = disk
	s.memberID, s.clusterID = rec.meta.MemberID, rec.meta.ClusterID
	if rec.snapshot != nil {
		if err := s.memStorage.ApplySnapshot(rec.snapshot); err != nil {
			return nil, fmt.Errorf("load snapshot into raft storage: %w", err)
		}
		st, err := unmarshalReplicatedState(rec.snapshot.GetData())
		if err != nil {
			return nil, fmt.Errorf("restore snapshot: %w", err)
		}
		s.state = st
		index := rec.snapshot.GetMetadata().GetIndex()
		s.applied.set(index)
		s.snapshotIndex = index
		s.confState = rec.snapshot.GetMetadata().GetConfState()
	}
	if err := s.memStorage.SetHardState(rec.hardState); err != nil {
		return nil, fmt.Errorf("load hard state: %w", err)
	}
	if err := s.memStorage.Append(rec.entries); err != nil {
		return nil, fmt.Errorf("load wal entries: %w", err)
	}
	s.lg.Info("recovered durable state",
		zap.Uint64("snapshot-index", s.snapshotIndex),
		zap.Int("wal-entries", len(rec.entries)),
		zap.Uint64("term", rec.hardState.GetTerm()),
		zap.Uint64("commit", rec.hardState.GetCommit()))
	return &bootPlan{restart: true, knownMembers: s.state.members.Members()}, nil
}

func (s *Server) bootstrapNew(members []membership.Member) (*bootPlan, error) {
	ids := make([]uint64, len(members))
	plan := &bootPlan{knownMembers: members}
	for i, m := range members {
		ids[i] = m.ID
		if m.Name == s.cfg.Name {
			s.memberID = m.ID
		}
		memberJSON, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encode member %s: %w", m.Name, err)
		}
		plan.peers = append(plan.peers, raft.Peer{ID: m.ID, Context: memberJSON})
	}
	s.clusterID = membership.ComputeClusterID(ids)
	disk, err := createDiskStorage(s.lg, s.cfg.DataDir, walMetadata{MemberID: s.memberID, ClusterID: s.clusterID})
	if err != nil {
		return nil, err
	}
	s.disk = disk
	if err := writeIdentity(s.cfg.DataDir, memberIdentity{MemberID: s.memberID, ClusterID: s.clusterID, Founder: true}); err != nil {
		return nil, err
	}
	return plan, nil
}

func (s *Server) bootstrapJoin(members []membership.Member) (*bootPlan, error) {
	var peerURLs []string
	for _, m := range members {
		if m.Name != s.cfg.Name {
			peerURLs = append(peerURLs, m.PeerURLs...)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	defer cancel()
	view, self, err := discoverSelf(ctx, s.lg, peerURLs, s.cfg.InitialAdvertisePeerURLs)
	if err != nil {
		return nil, fmt.Errorf("join existing cluster: %w", err)
	}
	s.memberID, s.clusterID = self.ID, view.ClusterID
	disk, err := createDiskStorage(s.lg, s.cfg.DataDir, walMetadata{MemberID: s.memberID, ClusterID: s.clusterID})
	if err != nil {
		return nil, err
	}
	s.disk = disk
	if err := writeIdentity(s.cfg.DataDir, memberIdentity{MemberID: s.memberID, ClusterID: s.clusterID}); err != nil {
		return nil, err
	}
	s.lg.Info("joining existing cluster", zap.String("member-id", fmt.Sprintf("%x", s.memberID)))
	return &bootPlan{restart: true, knownMembers: view.Members}, nil
}

// startRaft starts the raft node. CheckQuorum makes a leader that lost its
// quorum step down; PreVote keeps a node that was cut off from disrupting the
// cluster when it comes back.
func (s *Server) startRaft(plan *bootPlan) {
	c := &raft.Config{
		ID:                        s.memberID,
		ElectionTick:              int(s.cfg.ElectionTimeout / s.cfg.HeartbeatInterval),
		HeartbeatTick:             1,
		Storage:                   s.memStorage,
		Applied:                   s.applied.get(),
		MaxSizePerMsg:             1 << 20,
		MaxInflightMsgs:           256,
		MaxUncommittedEntriesSize: 1 << 30,
		CheckQuorum:               true,
		PreVote:                   true,
		StepDownOnRemoval:         true,
		Logger:                    raftLogger{s.lg.Named("raft").Sugar()},
	}
	if plan.restart {
		s.node = raft.RestartNode(c)
	} else {
		s.node = raft.StartNode(c, plan.peers)
	}
}

// raftLogger adapts a zap logger to raft.Logger, which names its warning
// level Warning where zap says Warn.
type raftLogger struct {
	*zap.SugaredLogger
}

// Warning logs at warn level.
func (l raftLogger) Warning(args ...any) { l.Warn(args...) }

// Warningf logs at warn level.
func (l raftLogger) Warningf(format string, args ...any) { l.Warnf(format, args...) }
