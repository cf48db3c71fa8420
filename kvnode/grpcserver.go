package kvnode

import (
	"context"
	"errors"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
)

// maxRequestBytes is etcd's default --max-request-bytes (1.5 MiB), plus room
// for the gRPC envelope.
const maxRequestBytes = 1.5*1024*1024 + 512*1024

// serveClients serves the gRPC API on every client listener: KV, Cluster,
// Maintenance and the standard health service, which reports SERVING while
// the node runs.
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

func (s *Server) requireLeaderStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if requiresLeader(ss.Context()) && s.lead.Load() == 0 {
		return rpctypes.ErrGRPCNoLeader
	}
	return handler(srv, ss)
}
