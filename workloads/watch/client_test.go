package watch

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/internal/etcdtest"
)

// writeHistory writes, as process 9: k0=0 (revision 2), k1=1 (3), a txn
// of k0=2, k1=3, k2=4 (4), a delete of k1 (5), k3=5 (6), and a delete of
// k1 again, which finds nothing and takes no revision.
func writeHistory(t *testing.T, r *rig, w *Client) {
	t.Helper()
	require.Equal(t, int64(2), r.put(w, 9, "k0", 0))
	require.Equal(t, int64(3), r.put(w, 9, "k1", 1))
	txn := r.ok(w, 9, harness.Op{F: Txn, Value: harness.MustValue([]Mutation{{Type: TypePut, Key: "k0", Value: 2}, {Type: TypePut, Key: "k1", Value: 3}, {Type: TypePut, Key: "k2", Value: 4}})})
	require.JSONEq(t, `{"revision":4}`, string(txn.Value))
	del := r.ok(w, 9, harness.Op{F: Delete, Key: "k1"})
	require.JSONEq(t, `{"revision":5,"deleted":{"k1":1}}`, string(del.Value))
	require.Equal(t, int64(6), r.put(w, 9, "k3", 5))
	again := r.ok(w, 9, harness.Op{F: Delete, Key: "k1"})
	require.JSONEq(t, `{"revision":6,"deleted":{"k1":0}}`, string(again.Value), "a delete of nothing takes no revision")
}

// TestWatchesRecordWhatTheCheckerNeeds: against a real etcd, watches of
// the prefix, a key and a range, with prevKV and with each filter,
// record the events they must (keys relative to the prefix, types,
// values, previous key-values), a txn's events in one response, and
// their creation's revision; the recorded history is judged valid on
// every guarantee.
func TestWatchesRecordWhatTheCheckerNeeds(t *testing.T) {
	r := newRig(t, etcdtest.Start(t))
	w := r.client(ClientOptions{})
	writeHistory(t, r, w)

	c := r.client(ClientOptions{})
	want := map[string][]string{
		"prefix":   {"P:k0@2", "P:k1@3", "P:k0@4", "P:k1@4", "P:k2@4", "D:k1@5", "P:k3@6"},
		"key":      {"P:k1@3", "P:k1@4", "D:k1@5"},
		"range":    {"P:k1@3", "P:k1@4", "P:k2@4", "D:k1@5"},
		"noput":    {"D:k1@5"},
		"nodelete": {"P:k1@3", "P:k1@4", "P:k2@4"},
	}
	specs := map[string]WatchSpec{
		"prefix":   {Session: 1, Prefix: true, Start: StartFirst, PrevKV: true},
		"key":      {Session: 2, Key: "k1", Start: StartFirst, PrevKV: true},
		"range":    {Session: 3, Key: "k1", End: "k3", Start: StartFirst},
		"noput":    {Session: 4, Prefix: true, Start: StartFirst, Filter: FilterNoPut, PrevKV: true},
		"nodelete": {Session: 5, Key: "k1", End: "k3", Start: StartFirst, Filter: FilterNoDelete},
	}
	for _, name := range []string{"prefix", "key", "range", "noput", "nodelete"} {
		done, v := r.watch(c, 0, specs[name])
		require.Equal(t, harness.OK, done.Type, "%s: %s", name, done.Error)
		require.NotNil(t, v.From, name)
		assert.Equal(t, int64(1), *v.From, name)
		assert.Equal(t, want[name], revisionsOf(events(v)), name)
		require.NotEmpty(t, v.Responses, name)
		assert.True(t, v.Responses[0].Created, "%s: the creation is recorded first", name)
		assert.Equal(t, int64(6), v.Responses[0].Revision, "%s: at the node's revision", name)
		if name == "prefix" {
			var in []int
			for i, resp := range v.Responses {
				for _, e := range resp.Events {
					if e.Revision == 4 {
						in = append(in, i)
					}
				}
			}
			require.Len(t, in, 3)
			assert.Equal(t, in[0], in[2], "a txn's events come in one response")
			byKey := map[string]Event{}
			for _, e := range events(v) {
				byKey[eventName(e)] = e
			}
			require.NotNil(t, byKey["P:k0@4"].PrevValue)
			assert.Equal(t, "0", *byKey["P:k0@4"].PrevValue)
			assert.Equal(t, int64(2), byKey["P:k0@4"].PrevRevision)
			assert.Nil(t, byKey["P:k2@4"].PrevValue, "a created key has no previous value")
			require.NotNil(t, byKey["D:k1@5"].PrevValue, "a delete's previous value is the deleted one")
			assert.Equal(t, "3", *byKey["D:k1@5"].PrevValue)
			assert.Equal(t, "", byKey["D:k1@5"].Value)
		}
		if !specs[name].PrevKV {
			for _, e := range events(v) {
				assert.Nil(t, e.PrevValue, "%s: no prev_kv without WithPrevKV", name)
			}
		}
	}
	final := r.ok(c, 20, harness.Op{F: FinalWatch, Node: "n1"})
	var fv FinalValue
	require.NoError(t, final.DecodeValue(&fv))
	assert.True(t, fv.Complete, fv.Error)
	assert.Equal(t, int64(6), fv.Target)

	res, d := r.check()
	assert.NotEqual(t, harness.ValidFalse, res.Valid, res.Summary)
	// Atomic has no boundary to judge: each watch caught up in one
	// response; nor Bookmarkable a progress notification.
	for _, p := range []string{Ordered, Unique, Reliable, Resumable, PrevKV, Filter} {
		assert.Equal(t, harness.ValidTrue, property(t, d, p).Valid, "%s: %v", p, res.Summary)
	}
	assert.Equal(t, "2 watches with a filter", property(t, d, Filter).Judged)
}

// TestProgressIsRecorded: a watch WithProgressNotify gets etcd's
// periodic notifications and one that asks with RequestProgress gets an
// answer, each at the store's revision; Bookmarkable judges them.
func TestProgressIsRecorded(t *testing.T) {
	s := etcdtest.Start(t, func(cfg *embed.Config) { cfg.WatchProgressNotifyInterval = 200 * time.Millisecond })
	r := newRig(t, s)
	w := r.client(ClientOptions{})
	rev := r.put(w, 9, "k0", 0)
	c := r.client(ClientOptions{Window: time.Second})
	for _, spec := range []WatchSpec{
		{Session: 1, Prefix: true, Start: StartNow, ProgressNotify: true},
		{Session: 2, Prefix: true, Start: StartNow, RequestProgress: true},
	} {
		done, v := r.watch(c, 0, spec)
		require.Equal(t, harness.OK, done.Type, done.Error)
		var progress []int64
		for _, resp := range v.Responses {
			if resp.Progress {
				progress = append(progress, resp.Revision)
			}
		}
		require.NotEmpty(t, progress, "session %d: a progress notification within a second", spec.Session)
		assert.Equal(t, rev, progress[0], "at the store's revision")
	}
	_, d := r.check()
	assert.Equal(t, harness.ValidTrue, property(t, d, Bookmarkable).Valid)
}

// TestCompactionCancelsAndResumes: the workload's compaction keeps
// CompactKeep revisions; a watch from before it is cancelled with the
// compact revision and fails keeping its value; the session's next
// watch resumes from the compact revision and delivers everything from
// there; a final watch cancelled the same way replays from there; and
// the checker accepts it all.
func TestCompactionCancelsAndResumes(t *testing.T) {
	r := newRig(t, etcdtest.Start(t))
	w := r.client(ClientOptions{CompactKeep: 4})
	for v := range 9 {
		r.put(w, 9, "k"+itoa(int64(v%3)), v)
	}
	compact := r.ok(w, 9, harness.Op{F: Compact})
	require.JSONEq(t, `{"revision":6}`, string(compact.Value), "revision 10 minus 4 kept")
	again := r.do(w, 9, harness.Op{F: Compact})
	require.Equal(t, harness.Fail, again.Type, "compacting what is compacted changes nothing: %s", again.Error)

	c := r.client(ClientOptions{})
	spec := WatchSpec{Session: 1, Prefix: true, Start: StartFirst, PrevKV: true}
	done, v := r.watch(c, 0, spec)
	require.Equal(t, harness.Fail, done.Type, "a watch from a compacted revision breaks")
	require.NotEmpty(t, v.Responses)
	last := v.Responses[len(v.Responses)-1]
	assert.Equal(t, int64(6), last.CompactRevision)
	assert.True(t, last.Canceled)
	assert.Contains(t, last.Error, "compacted")
	assert.Empty(t, events(v), "nothing is delivered from a compacted revision")

	done, v = r.watch(c, 0, spec)
	require.Equal(t, harness.OK, done.Type, done.Error)
	require.NotNil(t, v.From)
	assert.Equal(t, int64(6), *v.From, "resumed at the compact revision")
	assert.Equal(t, []string{"P:k1@6", "P:k2@7", "P:k0@8", "P:k1@9", "P:k2@10"}, revisionsOf(events(v)))

	final := r.ok(c, 20, harness.Op{F: FinalWatch, Node: "n1"})
	var fv FinalValue
	require.NoError(t, final.DecodeValue(&fv))
	require.True(t, fv.Complete, fv.Error)
	require.Len(t, fv.Pages, 2)
	assert.Equal(t, int64(6), fv.Pages[1].From, "the replay goes on from the compact revision")

	res, d := r.check()
	assert.NotEqual(t, harness.ValidFalse, res.Valid, res.Summary)
	for _, p := range []string{Reliable, Resumable, PrevKV} {
		assert.Equal(t, harness.ValidTrue, property(t, d, p).Valid, "%s: %v", p, res.Summary)
	}
	assert.Equal(t, 2, d.Compacted, "the watch and the final page were cancelled as compacted")
}

// TestCompactionOnADelete: with CompactAtDelete a compaction lands on
// the writer's newest delete (a lone delete's or a txn's) at least
// CompactKeep behind the store's revision and above its last
// compaction, else CompactKeep behind; a delete of a missing key made
// no revision and is not one; a watch resumed at a tombstone's compact
// revision delivers the delete there first, and the checker accepts it.
func TestCompactionOnADelete(t *testing.T) {
	r := newRig(t, etcdtest.Start(t))
	w := r.client(ClientOptions{CompactKeep: 1, CompactAt: CompactAtDelete})
	del := func(key string) {
		r.ok(w, 9, harness.Op{F: Delete, Key: key})
	}
	compact := func() int64 {
		var v CompactValue
		require.NoError(t, r.ok(w, 9, harness.Op{F: Compact}).DecodeValue(&v))
		return v.Revision
	}
	r.put(w, 9, "k0", 0) // 2
	r.put(w, 9, "k1", 1) // 3
	del("k0")            // 4
	r.put(w, 9, "k1", 2) // 5
	del("k1")            // 6
	r.put(w, 9, "k0", 3) // 7
	r.put(w, 9, "k1", 4) // 8
	assert.Equal(t, int64(6), compact(), "the newest delete at or below 8-1")

	c := r.client(ClientOptions{})
	spec := WatchSpec{Session: 1, Prefix: true, Start: StartFirst, PrevKV: true}
	done, _ := r.watch(c, 0, spec)
	require.Equal(t, harness.Fail, done.Type, "a watch from revision 1 is cancelled as compacted")
	done, v := r.watch(c, 0, spec)
	require.Equal(t, harness.OK, done.Type, done.Error)
	assert.Equal(t, []string{"D:k1@6", "P:k0@7", "P:k1@8"}, revisionsOf(events(v)), "resumed at the tombstone, its delete first")

	del("k9")            // a missing key: no revision
	r.put(w, 9, "k0", 5) // 9
	assert.Equal(t, int64(8), compact(), "no delete above the last compaction: 9-1")

	r.ok(w, 9, harness.Op{F: Txn, Value: harness.MustValue([]Mutation{{Type: TypeDelete, Key: "k0"}, {Type: TypePut, Key: "k1", Value: 6}})}) // 10
	r.put(w, 9, "k2", 7)                                                                                                                      // 11
	assert.Equal(t, int64(10), compact(), "the txn's delete")
	r.ok(c, 20, harness.Op{F: FinalWatch, Node: "n1"})

	res, d := r.check()
	assert.NotEqual(t, harness.ValidFalse, res.Valid, res.Summary)
	for _, p := range []string{Reliable, Resumable} {
		assert.Equal(t, harness.ValidTrue, property(t, d, p).Valid, "%s: %v", p, res.Summary)
	}
}

// TestStartRevisions: a session from an old revision starts Offset below
// the node's revision, one from a future revision Offset above it and
// delivers nothing before the store gets there, one from now after it;
// each resumes after the last revision it saw when its watch breaks.
func TestStartRevisions(t *testing.T) {
	r := newRig(t, etcdtest.Start(t))
	w := r.client(ClientOptions{})
	for v := range 5 {
		r.put(w, 9, "k0", v) // revisions 2..6
	}
	c := r.client(ClientOptions{Window: 200 * time.Millisecond})
	_, old := r.watch(c, 0, WatchSpec{Session: 1, Prefix: true, Start: StartOld, Offset: 2})
	require.NotNil(t, old.From)
	assert.Equal(t, int64(4), *old.From)
	assert.Equal(t, []string{"P:k0@4", "P:k0@5", "P:k0@6"}, revisionsOf(events(old)))

	c2 := r.client(ClientOptions{Window: 200 * time.Millisecond})
	future := WatchSpec{Session: 2, Prefix: true, Start: StartFuture, Offset: 3}
	_, fut := r.watch(c2, 1, future)
	require.NotNil(t, fut.From)
	assert.Equal(t, int64(9), *fut.From)
	assert.Empty(t, events(fut))
	c3 := r.client(ClientOptions{Window: 200 * time.Millisecond})
	now := WatchSpec{Session: 3, Prefix: true, Start: StartNow}
	_, nv := r.watch(c3, 2, now)
	require.NotNil(t, nv.From)
	assert.Equal(t, int64(0), *nv.From)
	for v := 5; v < 9; v++ {
		r.put(w, 9, "k1", v) // revisions 7..10
	}
	_, fut = r.watch(c2, 1, future)
	assert.Equal(t, []string{"P:k1@9", "P:k1@10"}, revisionsOf(events(fut)), "from the future revision on")
	_, nv = r.watch(c3, 2, now)
	assert.Equal(t, []string{"P:k1@7", "P:k1@8", "P:k1@9", "P:k1@10"}, revisionsOf(events(nv)))

	// Break the session's watch as a server would: the next op opens a
	// new watch after the last revision seen.
	c3.closeWatch()
	r.put(w, 9, "k2", 9) // revision 11
	_, nv = r.watch(c3, 2, now)
	require.NotNil(t, nv.From)
	assert.Equal(t, int64(11), *nv.From)
	assert.Equal(t, 1, nv.Watch, "the session's second watch")
	assert.Equal(t, []string{"P:k2@11"}, revisionsOf(events(nv)))

	res, d := r.check()
	assert.NotEqual(t, harness.ValidFalse, res.Valid, res.Summary)
	assert.Equal(t, harness.ValidTrue, property(t, d, Resumable).Valid, res.Summary)
}

// TestFailoverSession: a session that fails over watches through a
// client given every member's endpoint, learnt from the membership.
func TestFailoverSession(t *testing.T) {
	r := newRig(t, etcdtest.Start(t))
	w := r.client(ClientOptions{})
	r.put(w, 9, "k0", 0)
	c := r.client(ClientOptions{})
	done, v := r.watch(c, 0, WatchSpec{Session: 1, Prefix: true, Start: StartFirst, Failover: true})
	require.Equal(t, harness.OK, done.Type, done.Error)
	require.NotNil(t, c.everyone, "a client of every member was opened")
	assert.Equal(t, []string{r.s.Endpoint}, c.everyone.Endpoints())
	assert.Equal(t, []string{"P:k0@2"}, revisionsOf(events(v)))
}

// TestFinalWatchPages: a final watch replays the history in pages, each
// a watch of its own that ends once it has delivered FinalPage revisions
// (etcd delivers up to 1000 revisions a response, so a page may reach
// further), up to the revision its read returned; and it is bounded by
// FinalLimit rather than the op timeout.
func TestFinalWatchPages(t *testing.T) {
	s := etcdtest.Start(t)
	r := newRig(t, s)
	raw := s.Dial(t)
	defer raw.Close()
	const writes = 2100
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			for i := g; i < writes; i += 20 {
				_, err := raw.Put(context.Background(), "/w/k0", strconv.Itoa(i))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	c := r.client(ClientOptions{FinalPage: 500, FinalLimit: time.Hour})
	assert.Equal(t, time.Hour, c.OpTimeout(harness.Op{F: FinalWatch}, 2*time.Second))
	assert.Equal(t, 2*time.Second, c.OpTimeout(harness.Op{F: Put}, 2*time.Second))
	done := r.ok(c, 20, harness.Op{F: FinalWatch, Node: "n1"})
	var v FinalValue
	require.NoError(t, done.DecodeValue(&v))
	require.True(t, v.Complete, v.Error)
	assert.Equal(t, int64(writes+1), v.Target)
	require.GreaterOrEqual(t, len(v.Pages), 3, "2100 revisions in pages of 500 or more, at most 1000")
	next, total := int64(1), 0
	for _, p := range v.Pages {
		assert.Equal(t, next, p.From, "each page starts after the last revision of the one before")
		for _, resp := range p.Responses {
			total += len(resp.Events)
			if n := len(resp.Events); n > 0 {
				next = resp.Events[n-1].Revision + 1
			}
		}
	}
	assert.Equal(t, writes, total, "every revision replayed once")
}

// TestFinalWatchTimesOut: when the last revision is not the prefix's
// (a write elsewhere), a page ends only on a progress notification: one
// that comes after FinalTimeout leaves the final watch incomplete,
// saying where it stopped, and Reliable unknown; with time enough, it
// completes. A final read that cannot be made fails.
func TestFinalWatchTimesOut(t *testing.T) {
	s := etcdtest.Start(t)
	r := newRig(t, s)
	w := r.client(ClientOptions{})
	r.put(w, 9, "k0", 0)
	raw := s.Dial(t)
	defer raw.Close()
	_, err := raw.Put(context.Background(), "/elsewhere", "x") // revision 3
	require.NoError(t, err)

	short := r.client(ClientOptions{FinalTimeout: 300 * time.Millisecond})
	done := r.ok(short, 20, harness.Op{F: FinalWatch, Node: "n1"})
	var v FinalValue
	require.NoError(t, done.DecodeValue(&v))
	assert.Equal(t, int64(3), v.Target)
	assert.False(t, v.Complete)
	assert.Len(t, v.Pages, finalAttempts, "a page is tried again before giving up")
	assert.Contains(t, v.Error, "nothing past revision 2 within 300ms")
	res, d := r.check()
	assert.Equal(t, harness.ValidUnknown, res.Valid, res.Summary)
	assert.Contains(t, property(t, d, Reliable).Reason, "no final watch completed")

	long := r.client(ClientOptions{FinalTimeout: 2 * time.Second})
	done = r.ok(long, 21, harness.Op{F: FinalWatch, Node: "n1"})
	v = FinalValue{}
	require.NoError(t, done.DecodeValue(&v))
	assert.True(t, v.Complete, v.Error)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	failed := long.Invoke(ctx, harness.Op{F: FinalWatch})
	assert.Equal(t, harness.Fail, failed.Type, "a final read that cannot be made fails")
}

// TestWatchOpsReturnWhenTheNodeIsDown: with the node gone, opening a
// watch (clientv3 waits for the server to create it) and asking an open
// one for progress are bounded by the op: every watch op returns by its
// deadline.
func TestWatchOpsReturnWhenTheNodeIsDown(t *testing.T) {
	s := etcdtest.Start(t)
	r := newRig(t, s)
	c := r.client(ClientOptions{Window: 200 * time.Millisecond})
	open := WatchSpec{Session: 1, Prefix: true, Start: StartFirst, RequestProgress: true, RequireLeader: true}
	done, _ := r.watch(c, 0, open)
	require.Equal(t, harness.OK, done.Type, done.Error)
	s.Stop()
	for _, spec := range []WatchSpec{open, {Session: 2, Prefix: true, Start: StartFirst, RequestProgress: true}} {
		for range 2 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			start := time.Now()
			c.Invoke(ctx, harness.Op{F: Watch, Value: harness.MustValue(spec)})
			cancel()
			assert.Less(t, time.Since(start), 2*time.Second, "session %d: the op must return by its deadline", spec.Session)
		}
	}
}
