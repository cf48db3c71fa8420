package kvnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/types"
	"go.etcd.io/etcd/server/v3/etcdserver/api/rafthttp"
	stats "go.etcd.io/etcd/server/v3/etcdserver/api/v2stats"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"

	"github.com/faultline/faultline/kvnode/membership"
)

// membersPath serves the applied membership to nodes joining the cluster.
const membersPath = "/members"

// startTransport creates etcd's rafthttp transport and connects it to the
// known members. rafthttp keeps one stream per peer and redials it after a
// partition, sends snapshots over its pipeline, and reports unreachable
// peers and snapshot outcomes back to raft through peerRaft.
func (s *Server) startTransport(known []membership.Member) error {
	urls, err := types.NewURLs(s.cfg.InitialAdvertisePeerURLs)
	if err != nil {
		return fmt.Errorf("parse peer urls: %w", err)
	}
	id := types.ID(s.memberID).String()
	s.transport = &rafthttp.Transport{
		Logger: s.lg.Named("rafthttp"),
		// As etcd: a dial may take a second plus an election timeout. Without
		// a bound, a dial into a partition hangs for the kernel's SYN retries.
		DialTimeout: time.Second + s.cfg.ElectionTimeout,
		ID:          types.ID(s.memberID),
		URLs:        urls,
		ClusterID:   types.ID(s.clusterID),
		Raft:        peerRaft{s},
		Snapshotter: s.disk.snapshotter,
		ServerStats: stats.NewServerStats(s.cfg.Name, id),
		LeaderStats: stats.NewLeaderStats(s.lg, id),
		ErrorC:      make(chan error, 1),
	}
	if err := s.transport.Start(); err != nil {
		return fmt.Errorf("start peer transport: %w", err)
	}
	s.syncTransportPeers(known)
	return nil
}

// syncTransportPeers makes the transport's peers exactly members, minus self.
// Called at start and after a snapshot replaced the membership.
func (s *Server) syncTransportPeers(members []membership.Member) {
	want := make(map[uint64]bool, len(members))
	for _, m := range members {
		want[m.ID] = true
		s.addTransportPeer(m)
	}
	for id := range s.transportPeers {
		if !want[id] {
			s.removeTransportPeer(id)
		}
	}
}

func (s *Server) addTransportPeer(m membership.Member) {
	if m.ID == s.memberID || s.transportPeers[m.ID] {
		return
	}
	s.transport.AddPeer(types.ID(m.ID), m.PeerURLs)
	s.transportPeers[m.ID] = true
}

func (s *Server) removeTransportPeer(id uint64) {
	if !s.transportPeers[id] {
		return
	}
	s.transport.RemovePeer(types.ID(id))
	delete(s.transportPeers, id)
}

// servePeers serves the raft transport and the membership on the peer URLs.
func (s *Server) servePeers() {
	raftHandler := s.transport.Handler()
	mux := http.NewServeMux()
	mux.Handle(rafthttp.RaftPrefix, raftHandler)
	mux.Handle(rafthttp.RaftPrefix+"/", raftHandler)
	mux.HandleFunc(membersPath, s.serveMembers)
	mux.HandleFunc(leaseRenewPath, s.serveLeaseRenew)
	mux.HandleFunc(leaseTTLPath, s.serveLeaseTTL)
	s.peerServer = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	for _, ln := range s.peerListener {
		go func() {
			if err := s.peerServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.lg.Warn("peer server stopped", zap.Error(err))
			}
		}()
	}
}

// clusterView is the membership a running member tells a joining one.
type clusterView struct {
	ClusterID uint64              `json:"cluster_id"`
	Members   []membership.Member `json:"members"`
}

func (s *Server) serveMembers(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	s.stateMu.RLock()
	view := clusterView{ClusterID: s.clusterID, Members: s.state.members.Members()}
	s.stateMu.RUnlock()
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(view); err != nil {
		s.lg.Warn("write members response", zap.Error(err))
	}
}

// errIsolated is the reason a message is dropped while a test isolates the
// node.
var errIsolated = errors.New("kvnode: isolated from its peers (test partition)")

// sendToPeers hands messages to the transport, unless a test isolates the
// node: then they are dropped, as a partition would, and a dropped snapshot
// is reported as failed so that the leader sends it again later.
func (s *Server) sendToPeers(msgs []*raftpb.Message) {
	if !s.isolated.Load() {
		s.transport.Send(msgs)
		return
	}
	for _, m := range msgs {
		if m.GetType() == raftpb.MsgSnap {
			s.node.ReportSnapshot(m.GetTo(), raft.SnapshotFailure)
		}
	}
}

// peerRaft is what rafthttp calls back into: incoming messages and the
// delivery reports raft needs (unreachable peers, snapshot outcomes).
type peerRaft struct{ s *Server }

// Process steps a message received from a peer into raft.
func (p peerRaft) Process(ctx context.Context, m *raftpb.Message) error {
	if p.s.isolated.Load() {
		return errIsolated
	}
	if p.IsIDRemoved(m.GetFrom()) {
		return fmt.Errorf("message from removed member %x", m.GetFrom())
	}
	return p.s.node.Step(ctx, m)
}

// IsIDRemoved reports whether id was removed from the cluster; rafthttp
// refuses its streams.
func (p peerRaft) IsIDRemoved(id uint64) bool {
	p.s.stateMu.RLock()
	defer p.s.stateMu.RUnlock()
	return p.s.state.members.IsRemoved(id)
}

// ReportUnreachable tells raft a message to id could not be delivered, so the
// leader probes id again instead of streaming appends into the void.
func (p peerRaft) ReportUnreachable(id uint64) { p.s.node.ReportUnreachable(id) }

// ReportSnapshot tells raft whether a snapshot reached id.
func (p peerRaft) ReportSnapshot(id uint64, status raft.SnapshotStatus) {
	p.s.node.ReportSnapshot(id, status)
}
