package kvnode

import (
	"context"
	"errors"
	"sync"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// maxRequestBytes is etcd's default --max-request-bytes (1.5 MiB), plus room
// for the gRPC envelope.
const maxRequestBytes = 1.5*1024*1024 + 512*1024

// serveClients serves the gRPC API on every client listener: KV, Watch,
// Lease, Cluster, Maintenance and the standard health service, which
// reports SERVING while the node runs.
func (s *Server) serveClients() {
	s.grpcServer = grpc.NewServer(
		grpc.MaxRecvMsgSize(maxRequestBytes),
		grpc.ChainUnaryInterceptor(s.requireLeaderUnary),
		grpc.ChainStreamInterceptor(s.requireLeaderStream),
		// Like etcd: tolerate client keepalive pings every 5 s, even on idle
		// connections, instead of closing the connection for "too many pings".
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	)
	pb.RegisterKVServer(s.grpcServer, &kvService{s: s})
	pb.RegisterWatchServer(s.grpcServer, &watchService{s: s})
	pb.RegisterLeaseServer(s.grpcServer, &leaseService{s: s})
	pb.RegisterClusterServer(s.grpcServer, &clusterService{s: s})
	pb.RegisterMaintenanceServer(s.grpcServer, &maintenanceService{s: s})
	s.health = health.NewServer()
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s.grpcServer, s.health)

	for _, ln := range s.clientListener {
		go func() {
			if err := s.grpcServer.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				s.lg.Warn("client server stopped", zap.Error(err))
			}
		}()
	}
}

// requiresLeader reports whether the client asked, as clientv3's
// WithRequireLeader does, to fail while there is no leader.
func requiresLeader(ctx context.Context) bool {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return false
	}
	values := md.Get(rpctypes.MetadataRequireLeaderKey)
	return len(values) > 0 && values[0] == rpctypes.MetadataHasLeader
}

func (s *Server) requireLeaderUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if requiresLeader(ctx) && s.lead.Load() == 0 {
		return nil, rpctypes.ErrGRPCNoLeader
	}
	return handler(ctx, req)
}

// requireLeaderStream refuses a stream that asks for a leader while there
// is none, and registers it with the leader monitor, which cuts it with
// ErrGRPCNoLeader if the node loses its leader later.
func (s *Server) requireLeaderStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if !requiresLeader(ss.Context()) {
		return handler(srv, ss)
	}
	if s.lead.Load() == 0 {
		return rpctypes.ErrGRPCNoLeader
	}
	ls := s.leaderStreams.add(ss)
	defer s.leaderStreams.remove(ls)
	err := handler(srv, ls)
	if cause := context.Cause(ls.ctx); errors.Is(cause, rpctypes.ErrGRPCNoLeader) {
		return rpctypes.ErrGRPCNoLeader
	}
	return err
}

// maxNoLeaderChecks is how many election timeouts in a row a node must see
// no leader before it cuts the streams that require one (etcd's
// monitorLeader): reconnecting streams costs more than refusing requests.
const maxNoLeaderChecks = 3

// leaderStream is a stream whose client requires a leader; cancel ends its
// context with the reason.
type leaderStream struct {
	grpc.ServerStream
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// Context is the stream's context, which the leader monitor can cancel.
func (l *leaderStream) Context() context.Context { return l.ctx }

// leaderStreams are the open streams that require a leader.
type leaderStreams struct {
	mu      sync.Mutex
	streams map[*leaderStream]struct{}
}

func newLeaderStreams() *leaderStreams {
	return &leaderStreams{streams: make(map[*leaderStream]struct{})}
}

func (l *leaderStreams) add(ss grpc.ServerStream) *leaderStream {
	ctx, cancel := context.WithCancelCause(ss.Context())
	ls := &leaderStream{ServerStream: ss, ctx: ctx, cancel: cancel}
	l.mu.Lock()
	l.streams[ls] = struct{}{}
	l.mu.Unlock()
	return ls
}

func (l *leaderStreams) remove(ls *leaderStream) {
	l.mu.Lock()
	delete(l.streams, ls)
	l.mu.Unlock()
	ls.cancel(nil)
}

// cancelAll cuts every registered stream with ErrGRPCNoLeader.
func (l *leaderStreams) cancelAll() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.streams)
	for ls := range l.streams {
		ls.cancel(rpctypes.ErrGRPCNoLeader)
	}
	l.streams = make(map[*leaderStream]struct{})
	return n
}

// monitorLeader looks for a leader once per election timeout, until the
// server stops, and cuts the streams that require one after
// maxNoLeaderChecks looks in a row found none.
func (s *Server) monitorLeader() {
	ticker := time.NewTicker(s.cfg.ElectionTimeout)
	defer ticker.Stop()
	misses := 0
	for {
		select {
		case <-s.stopping:
			return
		case <-ticker.C:
		}
		if s.lead.Load() != 0 {
			misses = 0
			continue
		}
		if misses++; misses >= maxNoLeaderChecks {
			if n := s.leaderStreams.cancelAll(); n > 0 {
				s.lg.Warn("no leader: cut the streams that require one", zap.Int("streams", n))
			}
		}
	}
}

// streamError is what a stream handler returns when its context ended: the
// cause when the server cut the stream with a gRPC error (no leader), or
// else fallback (the client went away).
func streamError(ctx context.Context, fallback error) error {
	cause := context.Cause(ctx)
	if _, ok := status.FromError(cause); ok && cause != nil {
		return cause
	}
	return fallback
}
