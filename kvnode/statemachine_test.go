package kvnode

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/faultline/faultline/kvnode/membership"
)

func putRequest(id uint64, key, value string) *pb.InternalRaftRequest {
	return &pb.InternalRaftRequest{
		Header: &pb.RequestHeader{ID: id},
		Put:    &pb.PutRequest{Key: []byte(key), Value: []byte(value)},
	}
}

func TestReplicatedStateDropsDuplicates(t *testing.T) {
	st := newReplicatedState()
	res, dup := st.applyRequest(putRequest(7, "k", "v"))
	require.False(t, dup)
	require.NoError(t, res.err)
	require.EqualValues(t, 2, res.response.(*pb.PutResponse).Header.Revision)

	_, dup = st.applyRequest(putRequest(7, "k", "v"))
	require.True(t, dup, "the same request ID applies once")
	require.EqualValues(t, 2, st.kv.Revision())

	// The window survives a snapshot, so replicas restored from one agree.
	data, err := st.marshal()
	require.NoError(t, err)
	restored, err := unmarshalReplicatedState(data)
	require.NoError(t, err)
	_, dup = restored.applyRequest(putRequest(7, "k", "v"))
	require.True(t, dup)

	// The window is bounded: old IDs are forgotten.
	for id := uint64(100); id < 100+recentRequestWindow; id++ {
		_, dup := st.applyRequest(putRequest(id, "k", "v"))
		require.False(t, dup)
	}
	_, dup = st.applyRequest(putRequest(7, "k", "again"))
	require.False(t, dup)
	require.Len(t, st.recent, recentRequestWindow)
}

func TestReplicatedStateConfChanges(t *testing.T) {
	st := newReplicatedState()
	m := membership.Member{ID: 5, Name: "n5", PeerURLs: []string{"http://a:2380"}}
	memberJSON, err := json.Marshal(m)
	require.NoError(t, err)

	add := &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: new(uint64(5)), Context: memberJSON}
	got, err := st.checkConfChange(add)
	require.NoError(t, err)
	require.NoError(t, st.applyConfChange(add, got))
	_, err = st.checkConfChange(add)
	require.ErrorIs(t, err, membership.ErrIDExists)

	mismatch := &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: new(uint64(6)), Context: memberJSON}
	_, err = st.checkConfChange(mismatch)
	require.Error(t, err, "the node ID must match the member in the context")

	res, _ := st.applyRequest(&pb.InternalRaftRequest{ClusterMemberAttrSet: nil, Put: nil})
	require.Error(t, res.err, "an empty request is rejected, not applied")

	remove := &raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode.Enum(), NodeId: new(uint64(5))}
	got, err = st.checkConfChange(remove)
	require.NoError(t, err)
	require.NoError(t, st.applyConfChange(remove, got))
	require.True(t, st.members.IsRemoved(5))
	_, err = st.checkConfChange(remove)
	require.ErrorIs(t, err, membership.ErrIDRemoved)
}

// TestReplicatedStateLeasesAndCompaction applies lease and compaction
// requests as the raft log delivers them, and checks that a snapshot of
// the state keeps both.
func TestReplicatedStateLeasesAndCompaction(t *testing.T) {
	st := newReplicatedState()
	apply := func(id uint64, req *pb.InternalRaftRequest) applyResult {
		t.Helper()
		req.Header = &pb.RequestHeader{ID: id}
		res, dup := st.applyRequest(req)
		require.False(t, dup)
		return res
	}
	res := apply(1, &pb.InternalRaftRequest{LeaseGrant: &pb.LeaseGrantRequest{ID: 42, TTL: 3}})
	require.NoError(t, res.err)
	require.EqualValues(t, 42, res.response.(*pb.LeaseGrantResponse).ID)
	res = apply(2, &pb.InternalRaftRequest{Put: &pb.PutRequest{Key: []byte("k"), Lease: 42}})
	require.NoError(t, res.err)
	for id := uint64(3); id < 6; id++ {
		require.NoError(t, apply(id, putRequest(0, "other", "v")).err)
	}
	res = apply(6, &pb.InternalRaftRequest{Compaction: &pb.CompactionRequest{Revision: 3}})
	require.NoError(t, res.err)
	require.EqualValues(t, 3, st.kv.CompactRevision())

	data, err := st.marshal()
	require.NoError(t, err)
	restored, err := unmarshalReplicatedState(data)
	require.NoError(t, err)
	require.EqualValues(t, 3, restored.kv.CompactRevision())
	require.Equal(t, map[int64]int64{42: 3}, restored.kv.LeaseTTLs())

	res = apply(7, &pb.InternalRaftRequest{LeaseRevoke: &pb.LeaseRevokeRequest{ID: 42}})
	require.NoError(t, res.err)
	resp, err := st.kv.Range(&pb.RangeRequest{Key: []byte("k")})
	require.NoError(t, err)
	require.Empty(t, resp.Kvs, "the revoke deleted the lease's key")
	res = apply(8, &pb.InternalRaftRequest{LeaseRevoke: &pb.LeaseRevokeRequest{ID: 42}})
	require.Error(t, res.err, "a lease is revoked once")
}
