package kvnode

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// APIVersion is the etcd version whose v3 API kvnode serves; Status reports
// it. kvnode is not etcd: the version only tells clients which API to expect.
const APIVersion = "3.7.0"

// maintenanceService serves Maintenance.Status; the rest of the service
// (defragment, snapshot download, alarms, hash checks) is not served.
type maintenanceService struct {
	pb.UnimplementedMaintenanceServer
	s *Server
}

// Status reports the leader, raft term, commit and applied index as this
// node sees them. As etcd does, it adds "etcdserver: no leader" to Errors
// while the node knows no leader.
func (m *maintenanceService) Status(ctx context.Context, req *pb.StatusRequest) (*pb.StatusResponse, error) {
	st := m.s.node.Status()
	m.s.stateMu.RLock()
	size := m.s.state.kv.Size()
	m.s.stateMu.RUnlock()
	resp := &pb.StatusResponse{
		Header:           m.s.newHeader(),
		Version:          APIVersion,
		DbSize:           size,
		DbSizeInUse:      size,
		Leader:           st.Lead,
		RaftIndex:        st.HardState.GetCommit(),
		RaftTerm:         st.HardState.GetTerm(),
		RaftAppliedIndex: m.s.applied.get(),
	}
	if st.Lead == 0 {
		resp.Errors = append(resp.Errors, rpctypes.ErrGRPCNoLeader.Error())
	}
	return resp, nil
}
