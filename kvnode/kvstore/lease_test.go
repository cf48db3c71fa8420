package kvstore

import (
	"testing"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

func TestLeaseGrant(t *testing.T) {
	s := New()
	resp, err := s.LeaseGrant(&pb.LeaseGrantRequest{ID: 5, TTL: 10})
	require.NoError(t, err)
	require.EqualValues(t, 5, resp.ID)
	require.EqualValues(t, 10, resp.TTL)
	require.EqualValues(t, 1, resp.Header.Revision, "granting is not a revision")
	require.EqualValues(t, 1, s.Revision())

	_, err = s.LeaseGrant(&pb.LeaseGrantRequest{ID: 5, TTL: 10})
	require.ErrorIs(t, err, rpctypes.ErrGRPCLeaseExist)
	_, err = s.LeaseGrant(&pb.LeaseGrantRequest{ID: 6, TTL: MaxLeaseTTL + 1})
	require.ErrorIs(t, err, rpctypes.ErrGRPCLeaseTTLTooLarge)
	_, err = s.LeaseGrant(&pb.LeaseGrantRequest{TTL: 1})
	require.ErrorIs(t, err, rpctypes.ErrGRPCLeaseNotFound, "the proposer must choose an ID")
	require.Equal(t, []int64{5}, s.LeaseIDs())
}

// TestLeaseAttachAndRevoke follows keys onto, between and off leases, and
// revokes a lease: its keys go in one revision, in key order.
func TestLeaseAttachAndRevoke(t *testing.T) {
	s := New()
	for _, id := range []int64{1, 2} {
		_, err := s.LeaseGrant(&pb.LeaseGrantRequest{ID: id, TTL: 10})
		require.NoError(t, err)
	}
	leasePut := func(key string, lease int64) {
		t.Helper()
		_, err := s.Put(&pb.PutRequest{Key: []byte(key), Value: []byte("v"), Lease: lease})
		require.NoError(t, err)
	}
	leasePut("b", 1)
	leasePut("a", 1)
	leasePut("c", 1)
	leasePut("c", 2) // moves to lease 2
	put(t, s, "plain", "v")
	_, err := s.Put(&pb.PutRequest{Key: []byte("a"), Value: []byte("w"), IgnoreLease: true})
	require.NoError(t, err)
	require.EqualValues(t, 1, get(t, s, "a").Kvs[0].Lease, "ignore_lease keeps the lease")
	_, err = s.Put(&pb.PutRequest{Key: []byte("nokey"), IgnoreLease: true})
	require.ErrorIs(t, err, rpctypes.ErrGRPCKeyNotFound)

	_, keys, ok := s.Lease(1)
	require.True(t, ok)
	require.Equal(t, []string{"a", "b"}, keys)
	_, keys, _ = s.Lease(2)
	require.Equal(t, []string{"c"}, keys)

	// A failed Txn leaves attachments as they were.
	_, err = s.Txn(&pb.TxnRequest{Success: []*pb.RequestOp{
		opPut("a", "no lease now"),
		{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("x"), Lease: 99}}},
	}})
	require.ErrorIs(t, err, rpctypes.ErrGRPCLeaseNotFound)
	_, keys, _ = s.Lease(1)
	require.Equal(t, []string{"a", "b"}, keys)

	put(t, s, "b", "detached") // a put without a lease detaches
	_, keys, _ = s.Lease(1)
	require.Equal(t, []string{"a"}, keys)
	leasePut("b", 1)
	before := s.Revision()
	resp, err := s.LeaseRevoke(&pb.LeaseRevokeRequest{ID: 1})
	require.NoError(t, err)
	require.Equal(t, before+1, resp.Header.Revision, "one revision for the whole revoke")
	require.Empty(t, get(t, s, "a").Kvs)
	require.Empty(t, get(t, s, "b").Kvs)
	require.Len(t, get(t, s, "c").Kvs, 1)
	require.Len(t, get(t, s, "plain").Kvs, 1)
	evs, _, err := s.Events(EventsOptions{From: resp.Header.Revision, Keys: allKeys()})
	require.NoError(t, err)
	require.Equal(t, []string{"DELETE a@" + itoa(before+1), "DELETE b@" + itoa(before+1)}, eventStrings(evs))

	_, err = s.LeaseRevoke(&pb.LeaseRevokeRequest{ID: 1})
	require.ErrorIs(t, err, rpctypes.ErrGRPCLeaseNotFound)
	_, err = s.Put(&pb.PutRequest{Key: []byte("a"), Lease: 1})
	require.ErrorIs(t, err, rpctypes.ErrGRPCLeaseNotFound, "a revoked lease takes no keys")

	// Revoking a lease without keys is no revision.
	_, err = s.DeleteRange(&pb.DeleteRangeRequest{Key: []byte("c")})
	require.NoError(t, err)
	rev := s.Revision()
	resp, err = s.LeaseRevoke(&pb.LeaseRevokeRequest{ID: 2})
	require.NoError(t, err)
	require.Equal(t, rev, resp.Header.Revision)
	require.Empty(t, s.LeaseIDs())
}

func TestLeaseCompare(t *testing.T) {
	s := New()
	_, err := s.LeaseGrant(&pb.LeaseGrantRequest{ID: 3, TTL: 10})
	require.NoError(t, err)
	_, err = s.Put(&pb.PutRequest{Key: []byte("k"), Lease: 3})
	require.NoError(t, err)
	leaseIs := func(key string, lease int64) bool {
		resp, err := s.Txn(&pb.TxnRequest{Compare: []*pb.Compare{{
			Key: []byte(key), Target: pb.Compare_LEASE, Result: pb.Compare_EQUAL,
			TargetUnion: &pb.Compare_Lease{Lease: lease},
		}}})
		require.NoError(t, err)
		return resp.Succeeded
	}
	require.True(t, leaseIs("k", 3))
	require.False(t, leaseIs("k", 0))
	require.True(t, leaseIs("missing", 0), "a missing key is on lease 0")
	require.EqualValues(t, 3, get(t, s, "k").Kvs[0].Lease)
}
