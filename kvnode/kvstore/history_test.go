package kvstore

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// eventStrings renders events as "PUT k=v@rev" / "DELETE k@rev".
func eventStrings(evs []*mvccpb.Event) []string {
	var out []string
	for _, ev := range evs {
		if ev.Type == mvccpb.Event_DELETE {
			out = append(out, "DELETE "+string(ev.Kv.Key)+"@"+itoa(ev.Kv.ModRevision))
			continue
		}
		out = append(out, "PUT "+string(ev.Kv.Key)+"="+string(ev.Kv.Value)+"@"+itoa(ev.Kv.ModRevision))
	}
	return out
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func allKeys() KeyInterval { return NewKeyInterval([]byte{0}, []byte{0}) }

// TestRangeAtOldRevisions reads every revision of a short history back,
// including keys deleted and recreated since, and a read inside a Txn that
// has already written.
func TestRangeAtOldRevisions(t *testing.T) {
	s := New()
	put(t, s, "a", "1")                                               // 2
	put(t, s, "b", "1")                                               // 3
	put(t, s, "a", "2")                                               // 4
	_, err := s.DeleteRange(&pb.DeleteRangeRequest{Key: []byte("b")}) // 5
	require.NoError(t, err)
	put(t, s, "b", "2") // 6

	want := map[int64]map[string]string{
		1: {},
		2: {"a": "1"},
		3: {"a": "1", "b": "1"},
		4: {"a": "2", "b": "1"},
		5: {"a": "2"},
		6: {"a": "2", "b": "2"},
	}
	for rev, kvs := range want {
		resp, err := s.Range(&pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev})
		require.NoError(t, err, "revision %d", rev)
		got := map[string]string{}
		for _, kv := range resp.Kvs {
			got[string(kv.Key)] = string(kv.Value)
		}
		require.Equal(t, kvs, got, "revision %d", rev)
		require.EqualValues(t, 6, resp.Header.Revision, "the header has the current revision")
	}
	old, err := s.Range(&pb.RangeRequest{Key: []byte("b"), Revision: 3})
	require.NoError(t, err)
	require.EqualValues(t, 3, old.Kvs[0].CreateRevision, "the old version keeps its metadata")
	require.EqualValues(t, 1, old.Kvs[0].Version)

	// A Txn that wrote reads the revision before itself without its own write.
	resp, err := s.Txn(&pb.TxnRequest{Success: []*pb.RequestOp{
		opPut("a", "3"),
		{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("a"), Revision: 6}}},
		opGet("a"),
	}})
	require.NoError(t, err)
	require.Equal(t, "2", string(resp.Responses[1].GetResponseRange().Kvs[0].Value))
	require.Equal(t, "3", string(resp.Responses[2].GetResponseRange().Kvs[0].Value))
}

func TestCompact(t *testing.T) {
	s := New()
	for _, v := range []string{"1", "2", "3", "4"} {
		put(t, s, "k", v) // revisions 2..5
	}
	_, err := s.Compact(&pb.CompactionRequest{Revision: 6})
	require.ErrorIs(t, err, rpctypes.ErrGRPCFutureRev)
	resp, err := s.Compact(&pb.CompactionRequest{Revision: 4})
	require.NoError(t, err)
	require.EqualValues(t, 5, resp.Header.Revision)
	require.EqualValues(t, 4, s.CompactRevision())
	require.Equal(t, 2, s.HistoryLen(), "revisions 4 and 5 are kept")
	_, err = s.Compact(&pb.CompactionRequest{Revision: 4})
	require.ErrorIs(t, err, rpctypes.ErrGRPCCompacted, "compacting twice to one revision")

	_, err = s.Range(&pb.RangeRequest{Key: []byte("k"), Revision: 3})
	require.ErrorIs(t, err, rpctypes.ErrGRPCCompacted)
	at4, err := s.Range(&pb.RangeRequest{Key: []byte("k"), Revision: 4})
	require.NoError(t, err, "the compaction revision itself stays readable")
	require.Equal(t, "3", string(at4.Kvs[0].Value))

	_, _, err = s.Events(EventsOptions{From: 3, Keys: allKeys()})
	require.ErrorIs(t, err, rpctypes.ErrGRPCCompacted)
	evs, through, err := s.Events(EventsOptions{From: 4, Keys: allKeys()})
	require.NoError(t, err)
	require.Equal(t, []string{"PUT k=3@4", "PUT k=4@5"}, eventStrings(evs))
	require.EqualValues(t, 5, through)
}

// TestEvents checks the order, key selection, tombstones, prev_kv and the
// batch bound of Events.
func TestEvents(t *testing.T) {
	s := New()
	put(t, s, "a", "1") // 2
	// One revision, in the order of the Txn's operations (etcd's
	// sub-revisions), not in key order.
	_, err := s.Txn(&pb.TxnRequest{Success: []*pb.RequestOp{opPut("c", "1"), opPut("b", "1"), opPut("a", "2")}}) // 3
	require.NoError(t, err)
	_, err = s.DeleteRange(&pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte("c"), PrevKv: true}) // 4
	require.NoError(t, err)
	put(t, s, "d", "1") // 5

	evs, through, err := s.Events(EventsOptions{From: 1, Keys: allKeys()})
	require.NoError(t, err)
	require.EqualValues(t, 5, through)
	require.Equal(t, []string{
		"PUT a=1@2",
		"PUT c=1@3", "PUT b=1@3", "PUT a=2@3",
		"DELETE a@4", "DELETE b@4",
		"PUT d=1@5",
	}, eventStrings(evs))
	del := evs[4]
	require.Equal(t, &mvccpb.KeyValue{Key: []byte("a"), ModRevision: 4}, del.Kv, "a tombstone has only key and revision")
	require.Nil(t, del.PrevKv, "no prev_kv unless asked")

	evs, _, err = s.Events(EventsOptions{From: 3, Keys: NewKeyInterval([]byte("a"), nil), PrevKV: true})
	require.NoError(t, err)
	require.Equal(t, []string{"PUT a=2@3", "DELETE a@4"}, eventStrings(evs))
	require.Equal(t, "1", string(evs[0].PrevKv.Value))
	require.Equal(t, "2", string(evs[1].PrevKv.Value))

	evs, _, err = s.Events(EventsOptions{From: 2, Keys: NewKeyInterval([]byte("b"), []byte("d"))})
	require.NoError(t, err)
	require.Equal(t, []string{"PUT c=1@3", "PUT b=1@3", "DELETE b@4"}, eventStrings(evs))

	// A bound of 2 events still returns revision 3 whole.
	evs, through, err = s.Events(EventsOptions{From: 2, Keys: allKeys(), MaxEvents: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"PUT a=1@2", "PUT c=1@3", "PUT b=1@3", "PUT a=2@3"}, eventStrings(evs))
	require.EqualValues(t, 3, through)

	evs, through, err = s.Events(EventsOptions{From: 6, Keys: allKeys()})
	require.NoError(t, err)
	require.Empty(t, evs, "nothing has happened at the next revision yet")
	require.EqualValues(t, 5, through)
}

func TestFailedRequestsLeaveNoHistory(t *testing.T) {
	s := New()
	put(t, s, "k", "1")
	_, err := s.Txn(&pb.TxnRequest{Success: []*pb.RequestOp{
		opPut("x", "1"),
		{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("missing"), IgnoreValue: true}}},
	}})
	require.ErrorIs(t, err, rpctypes.ErrGRPCKeyNotFound)
	_, err = s.DeleteRange(&pb.DeleteRangeRequest{Key: []byte("nothing")})
	require.NoError(t, err)
	require.Equal(t, 1, s.HistoryLen())
	evs, _, err := s.Events(EventsOptions{From: 1, Keys: allKeys()})
	require.NoError(t, err)
	require.Equal(t, []string{"PUT k=1@2"}, eventStrings(evs))
}

// TestSnapshotKeepsHistoryAndLeases restores a store with a compaction
// point, a history and a lease, and checks that the copy reads, watches and
// revokes like the original.
func TestSnapshotKeepsHistoryAndLeases(t *testing.T) {
	s := New()
	_, err := s.LeaseGrant(&pb.LeaseGrantRequest{ID: 9, TTL: 5})
	require.NoError(t, err)
	put(t, s, "a", "1")                                                            // 2
	put(t, s, "a", "2")                                                            // 3
	_, err = s.Put(&pb.PutRequest{Key: []byte("l"), Value: []byte("x"), Lease: 9}) // 4
	require.NoError(t, err)
	put(t, s, "a", "3") // 5
	_, err = s.Compact(&pb.CompactionRequest{Revision: 3})
	require.NoError(t, err)

	data, err := s.MarshalSnapshot()
	require.NoError(t, err)
	r, err := RestoreSnapshot(data)
	require.NoError(t, err)
	require.EqualValues(t, 3, r.CompactRevision())
	_, err = r.Range(&pb.RangeRequest{Key: []byte("a"), Revision: 2})
	require.ErrorIs(t, err, rpctypes.ErrGRPCCompacted)
	at3, err := r.Range(&pb.RangeRequest{Key: []byte("a"), Revision: 3})
	require.NoError(t, err)
	require.Equal(t, "2", string(at3.Kvs[0].Value))
	evs, _, err := r.Events(EventsOptions{From: 3, Keys: allKeys(), PrevKV: true})
	require.NoError(t, err)
	require.Equal(t, []string{"PUT a=2@3", "PUT l=x@4", "PUT a=3@5"}, eventStrings(evs))
	require.Equal(t, "2", string(evs[2].PrevKv.Value))

	ttl, keys, ok := r.Lease(9)
	require.True(t, ok)
	require.EqualValues(t, 5, ttl)
	require.Equal(t, []string{"l"}, keys)
	for _, st := range []*Store{s, r} {
		resp, err := st.LeaseRevoke(&pb.LeaseRevokeRequest{ID: 9})
		require.NoError(t, err)
		require.EqualValues(t, 6, resp.Header.Revision)
	}
	want, err := s.MarshalSnapshot()
	require.NoError(t, err)
	got, err := r.MarshalSnapshot()
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "both copies evolve identically")
}

// TestSnapshotWithoutHistory reads a snapshot written before kvnode kept a
// history: everything before its revision counts as compacted.
func TestSnapshotWithoutHistory(t *testing.T) {
	old := `{"revision":7,"kvs":[{"key":"YQ==","value":"MQ==","create_revision":7,"mod_revision":7,"version":1}]}`
	s, err := RestoreSnapshot([]byte(old))
	require.NoError(t, err)
	require.EqualValues(t, 7, s.CompactRevision())
	require.Equal(t, "1", string(get(t, s, "a").Kvs[0].Value))
	_, err = s.Range(&pb.RangeRequest{Key: []byte("a"), Revision: 6})
	require.ErrorIs(t, err, rpctypes.ErrGRPCCompacted)

	_, err = RestoreSnapshot([]byte(`{"revision":3,"kvs":[{"key":"YQ==","value":"","lease":4}]}`))
	require.ErrorContains(t, err, "lease 4", "a key on a lease that does not exist")
}
