// Package kvnode is a raft key-value server that speaks etcd's v3 gRPC API,
// built to be tested by faultline. It imports nothing of the harness.
//
// A node is go.etcd.io/raft/v3 with etcd's WAL and snapshotter for
// durability, etcd's rafthttp for the peer transport, and kvstore (a pure
// state machine with etcd's revision and Txn rules) as the replicated state.
// Clients use clientv3 unchanged: KV (Range, Put, DeleteRange, Txn,
// Compact), Watch, Lease, Cluster (MemberList, MemberAdd, MemberRemove),
// Maintenance.Status and the gRPC health service are served; everything
// else answers Unimplemented.
//
// The promises a correct node keeps, and which the bug modes (BugMode) break
// one at a time:
//   - entries and the hard state are on disk, fsynced when raft requires it,
//     before any message that depends on them is sent;
//   - a write is acknowledged only after it is committed and applied here;
//   - a linearizable read waits for a ReadIndex confirmed by a quorum and for
//     the local state to apply up to it; only serializable reads are local;
//   - a watcher is sent every event on its keys from its start revision, in
//     order, once, or is canceled with the compaction revision;
//   - only the leader expires leases, by proposing their revoke through
//     raft; every replica applies the same revokes.
package kvnode

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/etcdserver/api/rafthttp"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
)

// ErrRemoved is the reason a node stops after the cluster removed it.
var ErrRemoved = errors.New("kvnode: this member was removed from the cluster")

// Server is one running kvnode member.
type Server struct {
	cfg Config
	lg  *zap.Logger

	memberID  uint64
	clusterID uint64

	node       raft.Node
	memStorage *raft.MemoryStorage
	disk       *diskStorage
	transport  *rafthttp.Transport

	// Owned by the raft loop once it runs (and by Start before).
	confState      *raftpb.ConfState
	snapshotIndex  uint64
	transportPeers map[uint64]bool

	// stateMu guards state, the replicated state machine.
	stateMu sync.RWMutex
	state   *replicatedState

	applied *appliedIndex
	lead    atomic.Uint64
	term    atomic.Uint64
	// leaderlessSince is when this node last lost its leader (Unix
	// nanoseconds), or 0 while it knows one.
	leaderlessSince atomic.Int64
	// recovered says the node started from its data directory.
	recovered bool

	// lessor is the leader's clock for leases; kvChanged wakes the watch
	// streams whenever the key-value state may have changed.
	lessor        *lessor
	kvChanged     *broadcaster
	leaderStreams *leaderStreams
	// forwardClient carries lease renewals and TTL lookups to the leader.
	forwardClient *http.Client
	// isolated drops all raft traffic with peers, as a partition would;
	// only tests set it (export_test.go).
	isolated atomic.Bool
	// workers counts the background goroutines that stop must wait for.
	workers sync.WaitGroup

	proposals  *proposalWaiters
	reads      *readWaiters
	readRounds *readRounds

	grpcServer     *grpc.Server
	health         *health.Server
	peerServer     *http.Server
	clientListener []net.Listener
	peerListener   []net.Listener

	stopping  chan struct{} // closed when shutdown begins
	loopDone  chan struct{} // closed when the raft loop has returned
	readsDone chan struct{} // closed when the read loop has returned
	done      chan struct{} // closed when shutdown is complete
	stopOnce  sync.Once
	errMu     sync.Mutex
	err       error
}

// Start validates cfg, recovers or bootstraps the member's state, and starts
// serving peers and clients. It returns once the node runs; the cluster may
// not have a leader yet.
func Start(cfg Config) (_ *Server, err error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	lg := cfg.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	lg = lg.With(zap.String("member-name", cfg.Name))
	cfg.Bug.announce(lg)

	s := &Server{
		cfg:            cfg,
		lg:             lg,
		transportPeers: make(map[uint64]bool),
		proposals:      newProposalWaiters(),
		reads:          newReadWaiters(),
		readRounds:     newReadRounds(),
		lessor:         newLessor(),
		kvChanged:      newBroadcaster(),
		leaderStreams:  newLeaderStreams(),
		forwardClient:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}},
		stopping:       make(chan struct{}),
		loopDone:       make(chan struct{}),
		readsDone:      make(chan struct{}),
		done:           make(chan struct{}),
	}
	defer func() {
		if err != nil {
			s.closePartial()
		}
	}()

	if cfg.Bug == BugLostRestart && hasDurableState(cfg.DataDir) {
		lg.Warn("KVNODE BUG lost-restart: discarding the WAL and snapshots but keeping the member ID",
			zap.String("data-dir", cfg.DataDir))
		if err := wipeDurableState(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	// Listen before anything is written, so that a taken port fails cleanly.
	if s.peerListener, err = listenAll(cfg.ListenPeerURLs); err != nil {
		return nil, fmt.Errorf("listen for peers: %w", err)
	}
	if s.clientListener, err = listenAll(cfg.ListenClientURLs); err != nil {
		return nil, fmt.Errorf("listen for clients: %w", err)
	}

	plan, err := s.bootstrap()
	if err != nil {
		return nil, err
	}
	// Raft first: the transport's stream readers deliver peers' messages
	// to s.node from the moment a peer is added.
	s.startRaft(plan)
	if err := s.startTransport(plan.knownMembers); err != nil {
		return nil, err
	}
	s.servePeers()
	s.serveClients()

	s.leaderlessSince.Store(time.Now().UnixNano())
	go s.run()
	go s.readLoop()
	go s.publishAttributes()
	s.goWorker(s.expireLeases)
	s.goWorker(s.autoCompact)
	s.goWorker(s.monitorLeader)
	s.disk.purgeOldFiles(s.stopping)
	lg.Info("kvnode started",
		zap.String("member-id", fmt.Sprintf("%x", s.memberID)),
		zap.String("cluster-id", fmt.Sprintf("%x", s.clusterID)),
		zap.Bool("restarted", plan.restart),
		zap.Uint64("applied-index", s.applied.get()))
	return s, nil
}

// MemberID returns this member's raft ID.
func (s *Server) MemberID() uint64 { return s.memberID }

// ClusterID returns the cluster's ID.
func (s *Server) ClusterID() uint64 { return s.clusterID }

// Leader returns the member ID of the leader this node knows of, or 0.
func (s *Server) Leader() uint64 { return s.lead.Load() }

// Done is closed when the server has stopped, whether through Stop or on
// its own (removed from the cluster, or a fatal storage error).
func (s *Server) Done() <-chan struct{} { return s.done }

// Err returns why the server stopped on its own, or nil.
func (s *Server) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Stop shuts the server down and waits until it has released its ports and
// its data directory.
func (s *Server) Stop() {
	s.stop(nil)
	<-s.done
}

// stop shuts down once; cause is recorded for Err. It must not be called
// from the raft loop, which stop waits for.
func (s *Server) stop(cause error) {
	s.stopOnce.Do(func() {
		if cause != nil {
			if errors.Is(cause, ErrRemoved) {
				s.lg.Warn("kvnode stopping: removed from the cluster", zap.Error(cause))
			} else {
				s.lg.Error("kvnode stopping", zap.Error(cause))
			}
			s.errMu.Lock()
			s.err = cause
			s.errMu.Unlock()
		}
		close(s.stopping)
		s.health.Shutdown()
		s.grpcServer.Stop()
		s.workers.Wait()
		<-s.loopDone
		s.lessor.demote()
		s.forwardClient.CloseIdleConnections()
		s.node.Stop()
		<-s.readsDone
		s.transport.Stop()
		if err := s.peerServer.Close(); err != nil {
			s.lg.Warn("close peer server", zap.Error(err))
		}
		if err := s.disk.close(); err != nil {
			s.lg.Warn("close storage", zap.Error(err))
		}
		s.lg.Info("kvnode stopped")
		close(s.done)
	})
}

// goWorker runs f in a goroutine that stop waits for; f must return soon
// after s.stopping is closed.
func (s *Server) goWorker(f func()) {
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		f()
	}()
}

// closePartial releases what a failed Start had opened.
func (s *Server) closePartial() {
	for _, ln := range append(s.peerListener, s.clientListener...) {
		ln.Close()
	}
	if s.transport != nil {
		s.transport.Stop()
	}
	if s.node != nil {
		s.node.Stop()
	}
	if s.disk != nil && s.disk.wal != nil {
		s.disk.close()
	}
}

// listenAll opens a TCP listener for each URL's host:port.
func listenAll(urls []string) ([]net.Listener, error) {
	var out []net.Listener
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			return out, fmt.Errorf("parse %q: %w", raw, err)
		}
		ln, err := net.Listen("tcp", u.Host)
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			return nil, fmt.Errorf("listen on %s: %w", u.Host, err)
		}
		out = append(out, ln)
	}
	return out, nil
}
