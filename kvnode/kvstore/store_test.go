package kvstore

import (
	"testing"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// TestRevisions walks one key through etcd's revision rules: one global
// revision per change, per-key create/mod/version, and deletion resetting them.
func TestRevisions(t *testing.T) {
	s := New()
	require.EqualValues(t, 1, s.Revision(), "a fresh store is at revision 1")

	type step struct {
		name                string
		do                  func() int64 // returns the header revision
		wantRev             int64
		wantCreate, wantMod int64
		wantVersion         int64
		wantMissing         bool
	}
	steps := []step{
		{name: "create a", do: func() int64 { return put(t, s, "a", "1").Header.Revision }, wantRev: 2, wantCreate: 2, wantMod: 2, wantVersion: 1},
		{name: "update a", do: func() int64 { return put(t, s, "a", "2").Header.Revision }, wantRev: 3, wantCreate: 2, wantMod: 3, wantVersion: 2},
		{name: "put b leaves a alone", do: func() int64 { return put(t, s, "b", "x").Header.Revision }, wantRev: 4, wantCreate: 2, wantMod: 3, wantVersion: 2},
		{name: "delete a", do: func() int64 {
			resp, err := s.DeleteRange(&pb.DeleteRangeRequest{Key: []byte("a")})
			require.NoError(t, err)
			require.EqualValues(t, 1, resp.Deleted)
			return resp.Header.Revision
		}, wantRev: 5, wantMissing: true},
		{name: "deleting nothing keeps the revision", do: func() int64 {
			resp, err := s.DeleteRange(&pb.DeleteRangeRequest{Key: []byte("a")})
			require.NoError(t, err)
			require.EqualValues(t, 0, resp.Deleted)
			return resp.Header.Revision
		}, wantRev: 5, wantMissing: true},
		{name: "recreate a starts over", do: func() int64 { return put(t, s, "a", "3").Header.Revision }, wantRev: 6, wantCreate: 6, wantMod: 6, wantVersion: 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			require.Equal(t, st.wantRev, st.do())
			require.Equal(t, st.wantRev, s.Revision())
			resp := get(t, s, "a")
			require.Equal(t, st.wantRev, resp.Header.Revision)
			if st.wantMissing {
				require.Empty(t, resp.Kvs)
				return
			}
			require.Len(t, resp.Kvs, 1)
			kv := resp.Kvs[0]
			require.Equal(t, st.wantCreate, kv.CreateRevision, "create_revision")
			require.Equal(t, st.wantMod, kv.ModRevision, "mod_revision")
			require.Equal(t, st.wantVersion, kv.Version, "version")
		})
	}
}

func TestPutOptions(t *testing.T) {
	s := New()
	put(t, s, "k", "old")

	resp, err := s.Put(&pb.PutRequest{Key: []byte("k"), Value: []byte("new"), PrevKv: true})
	require.NoError(t, err)
	require.Equal(t, "old", string(resp.PrevKv.Value))

	_, err = s.Put(&pb.PutRequest{Key: []byte("k"), IgnoreValue: true})
	require.NoError(t, err)
	require.Equal(t, "new", string(get(t, s, "k").Kvs[0].Value), "ignore_value keeps the value")
	require.EqualValues(t, 3, get(t, s, "k").Kvs[0].Version, "ignore_value still counts as a change")

	rev := s.Revision()
	for name, tc := range map[string]struct {
		req  *pb.PutRequest
		want error
	}{
		"empty key":               {&pb.PutRequest{Value: []byte("v")}, rpctypes.ErrGRPCEmptyKey},
		"ignore_value on missing": {&pb.PutRequest{Key: []byte("missing"), IgnoreValue: true}, rpctypes.ErrGRPCKeyNotFound},
		"ignore_value with value": {&pb.PutRequest{Key: []byte("k"), Value: []byte("v"), IgnoreValue: true}, rpctypes.ErrGRPCValueProvided},
		"lease is unknown":        {&pb.PutRequest{Key: []byte("k"), Lease: 7}, rpctypes.ErrGRPCLeaseNotFound},
		"ignore_lease with lease": {&pb.PutRequest{Key: []byte("k"), Lease: 7, IgnoreLease: true}, rpctypes.ErrGRPCLeaseProvided},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Put(tc.req)
			require.ErrorIs(t, err, tc.want)
			require.Equal(t, rev, s.Revision(), "a failed put changes nothing")
		})
	}
}

func TestDeleteRangePrefix(t *testing.T) {
	s := New()
	for _, k := range []string{"a", "b/1", "b/2", "c"} {
		put(t, s, k, "v-"+k)
	}
	resp, err := s.DeleteRange(&pb.DeleteRangeRequest{Key: []byte("b/"), RangeEnd: []byte("b0"), PrevKv: true})
	require.NoError(t, err)
	require.EqualValues(t, 2, resp.Deleted)
	require.Len(t, resp.PrevKvs, 2)
	require.Equal(t, "v-b/1", string(resp.PrevKvs[0].Value))
	require.EqualValues(t, 6, resp.Header.Revision, "one revision for both deletions")
	require.Equal(t, 2, s.Len())
}

func TestCloneIsIndependent(t *testing.T) {
	s := New()
	put(t, s, "k", "1")
	c := s.Clone()
	put(t, c, "k", "2")
	put(t, c, "other", "x")
	require.Equal(t, "1", string(get(t, s, "k").Kvs[0].Value))
	require.Equal(t, 1, s.Len())
	require.EqualValues(t, 2, s.Revision())
	require.EqualValues(t, 4, c.Revision())
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := New()
	put(t, s, "a", "1")
	put(t, s, "b", "2")
	put(t, s, "a", "3")
	_, err := s.DeleteRange(&pb.DeleteRangeRequest{Key: []byte("b")})
	require.NoError(t, err)

	data, err := s.MarshalSnapshot()
	require.NoError(t, err)
	restored, err := RestoreSnapshot(data)
	require.NoError(t, err)

	require.Equal(t, s.Revision(), restored.Revision())
	require.Equal(t, s.Size(), restored.Size())
	require.Equal(t, get(t, s, "a").Kvs[0].String(), get(t, restored, "a").Kvs[0].String())

	// Both copies must keep evolving identically.
	r1 := put(t, s, "a", "4")
	r2 := put(t, restored, "a", "4")
	require.Equal(t, r1.Header.Revision, r2.Header.Revision)
	again, err := restored.MarshalSnapshot()
	require.NoError(t, err)
	want, err := s.MarshalSnapshot()
	require.NoError(t, err)
	require.Equal(t, string(want), string(again))

	_, err = RestoreSnapshot([]byte("{"))
	require.Error(t, err)
	_, err = RestoreSnapshot([]byte(`{"revision":0}`))
	require.Error(t, err)
}
