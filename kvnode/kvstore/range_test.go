package kvstore

import (
	"testing"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

func TestRange(t *testing.T) {
	s := New()
	// Revisions: a=2, b/1=3, b/2=4, b/3=5, c=6; then b/1 is rewritten at 7.
	for _, k := range []string{"a", "b/1", "b/2", "b/3", "c"} {
		put(t, s, k, "v-"+k)
	}
	put(t, s, "b/1", "z")

	tests := []struct {
		name      string
		req       *pb.RangeRequest
		wantKeys  []string
		wantCount int64
		wantMore  bool
		wantErr   error
	}{
		{name: "single key", req: &pb.RangeRequest{Key: []byte("a")}, wantKeys: []string{"a"}, wantCount: 1},
		{name: "missing key", req: &pb.RangeRequest{Key: []byte("zz")}, wantCount: 0},
		{name: "prefix", req: &pb.RangeRequest{Key: []byte("b/"), RangeEnd: []byte("b0")}, wantKeys: []string{"b/1", "b/2", "b/3"}, wantCount: 3},
		{name: "from key", req: &pb.RangeRequest{Key: []byte("b/2"), RangeEnd: []byte{0}}, wantKeys: []string{"b/2", "b/3", "c"}, wantCount: 3},
		{name: "everything", req: &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}}, wantKeys: []string{"a", "b/1", "b/2", "b/3", "c"}, wantCount: 5},
		{name: "empty interval", req: &pb.RangeRequest{Key: []byte("c"), RangeEnd: []byte("a")}, wantCount: 0},
		{name: "limit", req: &pb.RangeRequest{Key: []byte("b/"), RangeEnd: []byte("b0"), Limit: 2}, wantKeys: []string{"b/1", "b/2"}, wantCount: 3, wantMore: true},
		{name: "limit not reached", req: &pb.RangeRequest{Key: []byte("b/"), RangeEnd: []byte("b0"), Limit: 3}, wantKeys: []string{"b/1", "b/2", "b/3"}, wantCount: 3},
		{name: "count only", req: &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, CountOnly: true}, wantCount: 5},
		{name: "descending keys", req: &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, SortOrder: pb.RangeRequest_DESCEND, Limit: 2}, wantKeys: []string{"c", "b/3"}, wantCount: 5, wantMore: true},
		{name: "by mod revision descending", req: &pb.RangeRequest{Key: []byte("b/"), RangeEnd: []byte("b0"), SortOrder: pb.RangeRequest_DESCEND, SortTarget: pb.RangeRequest_MOD}, wantKeys: []string{"b/1", "b/3", "b/2"}, wantCount: 3},
		{name: "by create revision default order is ascending", req: &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, SortTarget: pb.RangeRequest_CREATE, Limit: 1}, wantKeys: []string{"a"}, wantCount: 5, wantMore: true},
		{name: "min mod revision filter", req: &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, MinModRevision: 6}, wantKeys: []string{"b/1", "c"}, wantCount: 5},
		{name: "max create revision filter", req: &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, MaxCreateRevision: 3}, wantKeys: []string{"a", "b/1"}, wantCount: 5},
		{name: "current revision", req: &pb.RangeRequest{Key: []byte("a"), Revision: 7}, wantKeys: []string{"a"}, wantCount: 1},
		{name: "old revision reads the past", req: &pb.RangeRequest{Key: []byte("b/"), RangeEnd: []byte("b0"), Revision: 4}, wantKeys: []string{"b/1", "b/2"}, wantCount: 2},
		{name: "revision before the key existed", req: &pb.RangeRequest{Key: []byte("a"), Revision: 1}, wantCount: 0},
		{name: "future revision", req: &pb.RangeRequest{Key: []byte("a"), Revision: 8}, wantErr: rpctypes.ErrGRPCFutureRev},
		{name: "empty key", req: &pb.RangeRequest{}, wantErr: rpctypes.ErrGRPCEmptyKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Range(tc.req)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantKeys, keysOf(resp))
			require.Equal(t, tc.wantCount, resp.Count)
			require.Equal(t, tc.wantMore, resp.More)
			require.EqualValues(t, 7, resp.Header.Revision)
		})
	}
}

func TestRangeKeysOnly(t *testing.T) {
	s := New()
	put(t, s, "k", "value")
	resp, err := s.Range(&pb.RangeRequest{Key: []byte("k"), KeysOnly: true})
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	require.Empty(t, resp.Kvs[0].Value)
	require.EqualValues(t, 1, resp.Kvs[0].Version, "metadata is still returned")
}
