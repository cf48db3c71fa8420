package kvstore

import (
	"testing"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

func cmpValue(key string, result pb.Compare_CompareResult, v string) *pb.Compare {
	return &pb.Compare{Key: []byte(key), Target: pb.Compare_VALUE, Result: result, TargetUnion: &pb.Compare_Value{Value: []byte(v)}}
}

func cmpVersion(key string, result pb.Compare_CompareResult, v int64) *pb.Compare {
	return &pb.Compare{Key: []byte(key), Target: pb.Compare_VERSION, Result: result, TargetUnion: &pb.Compare_Version{Version: v}}
}

func cmpMod(key string, result pb.Compare_CompareResult, v int64) *pb.Compare {
	return &pb.Compare{Key: []byte(key), Target: pb.Compare_MOD, Result: result, TargetUnion: &pb.Compare_ModRevision{ModRevision: v}}
}

func cmpCreate(key string, result pb.Compare_CompareResult, v int64) *pb.Compare {
	return &pb.Compare{Key: []byte(key), Target: pb.Compare_CREATE, Result: result, TargetUnion: &pb.Compare_CreateRevision{CreateRevision: v}}
}

// TestCompare checks every target against every result, on an existing key
// (value "m", create_revision 2, mod_revision 3, version 2), on a missing key,
// and over a range.
func TestCompare(t *testing.T) {
	s := New()
	put(t, s, "k", "a")
	put(t, s, "k", "m")
	put(t, s, "r/1", "x")
	put(t, s, "r/2", "x")

	const (
		eq = pb.Compare_EQUAL
		ne = pb.Compare_NOT_EQUAL
		gt = pb.Compare_GREATER
		lt = pb.Compare_LESS
	)
	tests := []struct {
		name string
		cmp  *pb.Compare
		want bool
	}{
		{"value equal", cmpValue("k", eq, "m"), true},
		{"value equal mismatch", cmpValue("k", eq, "n"), false},
		{"value not equal", cmpValue("k", ne, "n"), true},
		{"value greater", cmpValue("k", gt, "a"), true},
		{"value greater mismatch", cmpValue("k", gt, "z"), false},
		{"value less", cmpValue("k", lt, "z"), true},
		{"value less mismatch", cmpValue("k", lt, "m"), false},
		{"value of missing key is never equal", cmpValue("none", eq, ""), false},
		{"value of missing key is never not-equal", cmpValue("none", ne, "x"), false},

		{"version equal", cmpVersion("k", eq, 2), true},
		{"version not equal", cmpVersion("k", ne, 2), false},
		{"version greater", cmpVersion("k", gt, 1), true},
		{"version less", cmpVersion("k", lt, 2), false},
		{"missing key has version 0", cmpVersion("none", eq, 0), true},

		{"mod equal", cmpMod("k", eq, 3), true},
		{"mod greater", cmpMod("k", gt, 3), false},
		{"mod less", cmpMod("k", lt, 4), true},
		{"mod not equal", cmpMod("k", ne, 3), false},
		{"missing key has mod 0", cmpMod("none", eq, 0), true},

		{"create equal", cmpCreate("k", eq, 2), true},
		{"create not equal", cmpCreate("k", ne, 3), true},
		{"create greater", cmpCreate("k", gt, 2), false},
		{"create less", cmpCreate("k", lt, 3), true},
		{"missing key has create 0 (absent)", cmpCreate("none", eq, 0), true},

		{"range all equal", &pb.Compare{Key: []byte("r/"), RangeEnd: []byte("r0"), Target: pb.Compare_VALUE, Result: eq, TargetUnion: &pb.Compare_Value{Value: []byte("x")}}, true},
		{"range must hold for every key", &pb.Compare{Key: []byte("r/"), RangeEnd: []byte("r0"), Target: pb.Compare_MOD, Result: eq, TargetUnion: &pb.Compare_ModRevision{ModRevision: 4}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Txn(&pb.TxnRequest{Compare: []*pb.Compare{tc.cmp}})
			require.NoError(t, err)
			require.Equal(t, tc.want, resp.Succeeded)
		})
	}
}

func TestTxn(t *testing.T) {
	tests := []struct {
		name string
		txn  *pb.TxnRequest
		// check inspects the store and the response; the store starts with
		// k=v1 at revision 2.
		check func(t *testing.T, s *Store, resp *pb.TxnResponse)
	}{
		{
			name: "cas success writes once",
			txn: &pb.TxnRequest{
				Compare: []*pb.Compare{cmpValue("k", pb.Compare_EQUAL, "v1")},
				Success: []*pb.RequestOp{opPut("k", "v2"), opPut("other", "o")},
				Failure: []*pb.RequestOp{opGet("k")},
			},
			check: func(t *testing.T, s *Store, resp *pb.TxnResponse) {
				require.True(t, resp.Succeeded)
				require.EqualValues(t, 3, resp.Header.Revision, "two puts, one revision")
				require.EqualValues(t, 3, resp.Responses[0].GetResponsePut().Header.Revision)
				require.EqualValues(t, 3, get(t, s, "k").Kvs[0].ModRevision)
				require.EqualValues(t, 3, get(t, s, "other").Kvs[0].ModRevision)
			},
		},
		{
			name: "cas failure runs the else branch",
			txn: &pb.TxnRequest{
				Compare: []*pb.Compare{cmpValue("k", pb.Compare_EQUAL, "nope")},
				Success: []*pb.RequestOp{opPut("k", "v2")},
				Failure: []*pb.RequestOp{opGet("k")},
			},
			check: func(t *testing.T, s *Store, resp *pb.TxnResponse) {
				require.False(t, resp.Succeeded)
				require.EqualValues(t, 2, resp.Header.Revision, "a read-only branch does not move the revision")
				require.Equal(t, "v1", string(resp.Responses[0].GetResponseRange().Kvs[0].Value))
			},
		},
		{
			name: "reads see earlier writes of the same txn",
			txn: &pb.TxnRequest{
				Success: []*pb.RequestOp{opPut("n", "v2"), opGet("n"), opDelete("k", ""), opGet("k")},
			},
			check: func(t *testing.T, s *Store, resp *pb.TxnResponse) {
				require.True(t, resp.Succeeded, "no compares means success")
				first := resp.Responses[1].GetResponseRange()
				require.Equal(t, "v2", string(first.Kvs[0].Value))
				require.EqualValues(t, 3, first.Kvs[0].ModRevision)
				require.EqualValues(t, 3, first.Header.Revision)
				require.Empty(t, resp.Responses[3].GetResponseRange().Kvs)
				require.EqualValues(t, 3, s.Revision())
				require.Empty(t, get(t, s, "k").Kvs)
				require.EqualValues(t, 3, get(t, s, "n").Kvs[0].CreateRevision)
			},
		},
		{
			name: "delete of nothing in a txn is no change",
			txn: &pb.TxnRequest{
				Success: []*pb.RequestOp{opDelete("missing", "")},
			},
			check: func(t *testing.T, s *Store, resp *pb.TxnResponse) {
				require.EqualValues(t, 2, resp.Header.Revision)
				require.EqualValues(t, 0, resp.Responses[0].GetResponseDeleteRange().Deleted)
			},
		},
		{
			name: "nested txn",
			txn: &pb.TxnRequest{
				Success: []*pb.RequestOp{opTxn(&pb.TxnRequest{
					Compare: []*pb.Compare{cmpVersion("k", pb.Compare_EQUAL, 1)},
					Success: []*pb.RequestOp{opPut("k", "nested")},
					Failure: []*pb.RequestOp{opPut("k", "wrong")},
				})},
			},
			check: func(t *testing.T, s *Store, resp *pb.TxnResponse) {
				inner := resp.Responses[0].GetResponseTxn()
				require.True(t, inner.Succeeded)
				require.EqualValues(t, 3, inner.Header.Revision)
				require.Equal(t, "nested", string(get(t, s, "k").Kvs[0].Value))
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			put(t, s, "k", "v1")
			resp, err := s.Txn(tc.txn)
			require.NoError(t, err)
			tc.check(t, s, resp)
		})
	}
}

func TestTxnRejects(t *testing.T) {
	ignoreMissing := &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("missing"), IgnoreValue: true}}}
	tests := []struct {
		name string
		txn  *pb.TxnRequest
		want error
	}{
		{"two puts of one key", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("a", "1"), opPut("a", "2")}}, rpctypes.ErrGRPCDuplicateKey},
		{"put inside a deleted range", &pb.TxnRequest{Failure: []*pb.RequestOp{opDelete("a", "c"), opPut("b", "2")}}, rpctypes.ErrGRPCDuplicateKey},
		{"nested put clashes with outer put", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("a", "1"), opTxn(&pb.TxnRequest{Success: []*pb.RequestOp{opPut("a", "2")}})}}, rpctypes.ErrGRPCDuplicateKey},
		{"empty key", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("", "1")}}, rpctypes.ErrGRPCEmptyKey},
		{"empty op", &pb.TxnRequest{Success: []*pb.RequestOp{{}}}, ErrEmptyRequestOp},
		{"rollback after a failing op", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("k", "changed"), opDelete("k2", ""), ignoreMissing}}, rpctypes.ErrGRPCKeyNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			put(t, s, "k", "v1")
			put(t, s, "k2", "v1")
			before, err := s.MarshalSnapshot()
			require.NoError(t, err)
			_, err = s.Txn(tc.txn)
			require.ErrorIs(t, err, tc.want)
			after, err := s.MarshalSnapshot()
			require.NoError(t, err)
			require.Equal(t, string(before), string(after), "a rejected txn changes nothing")
		})
	}

	// The two branches of a nested txn exclude each other and may share keys.
	ok := &pb.TxnRequest{Success: []*pb.RequestOp{opTxn(&pb.TxnRequest{
		Success: []*pb.RequestOp{opPut("a", "1")},
		Failure: []*pb.RequestOp{opPut("a", "2")},
	})}}
	require.NoError(t, ValidateTxn(ok))
}

func TestTxnClassification(t *testing.T) {
	readOnly := &pb.TxnRequest{Success: []*pb.RequestOp{opGet("a")}, Failure: []*pb.RequestOp{opTxn(&pb.TxnRequest{Success: []*pb.RequestOp{opGet("b")}})}}
	require.True(t, IsReadOnlyTxn(readOnly))
	require.False(t, IsSerializableTxn(readOnly))
	writes := &pb.TxnRequest{Failure: []*pb.RequestOp{opTxn(&pb.TxnRequest{Failure: []*pb.RequestOp{opDelete("a", "")}})}}
	require.False(t, IsReadOnlyTxn(writes))
	serializable := &pb.TxnRequest{Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("a"), Serializable: true}}}}}
	require.True(t, IsSerializableTxn(serializable))
}
