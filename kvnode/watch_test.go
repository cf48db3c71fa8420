package kvnode_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/kvnode"
)

// TestWatchSemantics watches, on a follower, with the watch options etcd
// has: from now, from an old and a future revision, on a key, a prefix, a
// range and every key from one on, with prev_kv and the NOPUT and NODELETE
// filters; a Txn of several keys arrives as one response.
func TestWatchSemantics(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.startAll()
	f := c.follower(c.waitLeader())
	w := c.client(f) // watches are served by the follower's applied state
	cli := c.client()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	first, err := cli.Put(c.ctx(), "w/a", "1")
	require.NoError(t, err)
	r1 := first.Header.Revision

	// A linearizable read makes the follower apply r1, so that the watches
	// from now start after it.
	_, err = w.Get(c.ctx(), "w/a")
	require.NoError(t, err)
	now := watchCreated(t, w, ctx, "w/a")
	prefix := watchCreated(t, w, ctx, "w/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	interval := watchCreated(t, w, ctx, "w/b", clientv3.WithRange("w/d"))
	fromKey := watchCreated(t, w, ctx, "w/c", clientv3.WithFromKey())
	deletesOnly := watchCreated(t, w, ctx, "w/", clientv3.WithPrefix(), clientv3.WithFilterPut())
	putsOnly := watchCreated(t, w, ctx, "w/", clientv3.WithPrefix(), clientv3.WithFilterDelete())
	future := watchCreated(t, w, ctx, "w/", clientv3.WithPrefix(), clientv3.WithRev(r1+5))

	_, err = cli.Put(c.ctx(), "w/a", "2") // r1+1
	require.NoError(t, err)
	txn, err := cli.Txn(c.ctx()).Then( // r1+2
		clientv3.OpPut("w/b", "1"), clientv3.OpPut("w/c", "1"), clientv3.OpPut("w/d", "1")).Commit()
	require.NoError(t, err)
	require.Equal(t, r1+2, txn.Header.Revision)
	_, err = cli.Delete(c.ctx(), "w/a") // r1+3
	require.NoError(t, err)
	_, err = cli.Put(c.ctx(), "w/e", "1") // r1+4
	require.NoError(t, err)
	_, err = cli.Put(c.ctx(), "w/b", "2") // r1+5
	require.NoError(t, err)

	at := func(d int64) string { return itoa(r1 + d) }
	require.Equal(t, []string{"PUT w/a=2@" + at(1), "DELETE w/a@" + at(3)}, describe(collectEvents(t, now, 2)))

	// A follower may apply several entries at once and send their events
	// in one response; what it must not do is split a revision's events.
	var evs []*clientv3.Event
	var txnResp []*clientv3.Event
	for len(evs) < 7 {
		resp := nextResponse(t, prefix, 5*time.Second)
		require.NoError(t, resp.Err())
		for _, ev := range resp.Events {
			if ev.Kv.ModRevision == r1+2 {
				txnResp = append(txnResp, ev)
			}
		}
		if len(txnResp) > 0 {
			require.Len(t, txnResp, 3, "the Txn's three puts arrive together, in one response")
		}
		evs = append(evs, resp.Events...)
	}
	require.Equal(t, []string{
		"PUT w/a=2@" + at(1), "PUT w/b=1@" + at(2), "PUT w/c=1@" + at(2), "PUT w/d=1@" + at(2),
		"DELETE w/a@" + at(3), "PUT w/e=1@" + at(4), "PUT w/b=2@" + at(5),
	}, describe(evs), "the prefix watch sees every revision in order")
	require.Equal(t, "1", string(evs[0].PrevKv.Value), "prev_kv of an update")
	require.Nil(t, evs[1].PrevKv, "a created key has no prev_kv")
	require.Equal(t, "2", string(evs[4].PrevKv.Value), "prev_kv of a delete")
	require.Equal(t, "1", string(evs[6].PrevKv.Value))

	require.Equal(t, []string{"PUT w/b=1@" + at(2), "PUT w/c=1@" + at(2), "PUT w/b=2@" + at(5)}, describe(collectEvents(t, interval, 3)))
	require.Equal(t, []string{"PUT w/c=1@" + at(2), "PUT w/d=1@" + at(2), "PUT w/e=1@" + at(4)}, describe(collectEvents(t, fromKey, 3)))
	require.Equal(t, []string{"DELETE w/a@" + at(3)}, describe(collectEvents(t, deletesOnly, 1)))
	require.Len(t, collectEvents(t, putsOnly, 6), 6)
	require.Equal(t, []string{"PUT w/b=2@" + at(5)}, describe(collectEvents(t, future, 1)), "a future watch starts at its revision")

	// An old revision replays the history.
	old := w.Watch(ctx, "w/", clientv3.WithPrefix(), clientv3.WithRev(r1))
	require.Equal(t, []string{
		"PUT w/a=1@" + at(0), "PUT w/a=2@" + at(1),
		"PUT w/b=1@" + at(2), "PUT w/c=1@" + at(2), "PUT w/d=1@" + at(2),
		"DELETE w/a@" + at(3), "PUT w/e=1@" + at(4), "PUT w/b=2@" + at(5),
	}, describe(collectEvents(t, old, 8)))

	// Nothing more arrives on any of them.
	for _, wch := range []clientv3.WatchChan{now, interval, fromKey, deletesOnly, future, old} {
		noResponse(t, wch, 100*time.Millisecond)
	}
}

// TestWatchProgressAndCompaction covers the responses without events: a
// progress notification on request and every progress interval, carrying
// the current revision, and the compaction response that cancels a watch
// from a compacted revision.
func TestWatchProgressAndCompaction(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *kvnode.Config) {
		cfg.WatchProgressNotifyInterval = 300 * time.Millisecond
	})
	c.startAll()
	f := c.follower(c.waitLeader())
	w := c.client(f)
	cli := c.client()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var last int64
	for i := range 5 {
		resp, err := cli.Put(c.ctx(), "p", fmt.Sprint(i))
		require.NoError(t, err)
		last = resp.Header.Revision
	}
	require.Eventually(t, func() bool {
		get, err := w.Get(c.ctx(), "p", clientv3.WithSerializable())
		return err == nil && get.Header.Revision == last
	}, 5*time.Second, 10*time.Millisecond)

	// A progress request answers once the watcher is synced, with the
	// current revision.
	rctx := clientv3.WithRequireLeader(ctx) // the progress request goes on the watch's stream
	wch := w.Watch(rctx, "p", clientv3.WithRev(last))
	require.Len(t, collectEvents(t, wch, 1), 1)
	require.NoError(t, w.RequestProgress(rctx))
	resp := nextResponse(t, wch, 5*time.Second)
	require.True(t, resp.IsProgressNotify(), "a progress notification: %+v", resp)
	require.Equal(t, last, resp.Header.Revision)

	// Periodic notifications, only for a watch that asked for them.
	notify := w.Watch(ctx, "p", clientv3.WithProgressNotify())
	silent := w.Watch(ctx, "q")
	resp = nextResponse(t, notify, 3*time.Second)
	require.True(t, resp.IsProgressNotify())
	require.Equal(t, last, resp.Header.Revision)
	resp = nextResponse(t, notify, 3*time.Second)
	require.True(t, resp.IsProgressNotify(), "one every interval")
	noResponse(t, silent, 500*time.Millisecond)

	// Compaction: a watch from below the compaction point is canceled with
	// the compaction revision; from the point itself it still works.
	_, err := cli.Compact(c.ctx(), last-1, clientv3.WithCompactPhysical())
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := w.Get(c.ctx(), "p", clientv3.WithRev(last-2), clientv3.WithSerializable())
		return err != nil
	}, 5*time.Second, 10*time.Millisecond)
	compacted := w.Watch(ctx, "p", clientv3.WithRev(last-2))
	resp = nextResponse(t, compacted, 5*time.Second)
	require.Equal(t, last-1, resp.CompactRevision)
	require.ErrorIs(t, resp.Err(), rpctypes.ErrCompacted)
	require.True(t, resp.Canceled)
	_, open := <-compacted
	require.False(t, open, "the watch is canceled")
	at := w.Watch(ctx, "p", clientv3.WithRev(last-1))
	require.Equal(t, []string{"PUT p=3@" + itoa(last-1), "PUT p=4@" + itoa(last)}, describe(collectEvents(t, at, 2)))
}

// TestWatchAcrossLeaderChange keeps a watch on a follower while the leader
// is stopped and another takes over: every acknowledged write arrives
// exactly once, in order.
func TestWatchAcrossLeaderChange(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.startAll()
	leader := c.waitLeader()
	f := c.follower(leader)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wch := watchCreated(t, c.client(f), clientv3.WithRequireLeader(ctx), "k")
	var writers []int
	for i := range c.servers {
		if i != leader {
			writers = append(writers, i)
		}
	}
	cli := c.client(writers...)
	var want []string
	write := func(i int) {
		resp, err := cli.Put(c.ctx(), "k", fmt.Sprint(i))
		require.NoError(t, err)
		want = append(want, fmt.Sprintf("PUT k=%d@%d", i, resp.Header.Revision))
	}
	for i := range 5 {
		write(i)
	}
	c.stop(leader)
	c.waitLeader()
	for i := 5; i < 10; i++ {
		write(i)
	}
	require.Equal(t, want, describe(collectEvents(t, wch, 10)))
	noResponse(t, wch, 200*time.Millisecond)
}

// TestWatchRequireLeader cuts a follower off: a watch that requires a
// leader fails with "no leader" (after three election timeouts without
// one, as etcd), and resumed elsewhere from its next revision it gets the
// writes it missed.
func TestWatchRequireLeader(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.startAll()
	leader := c.waitLeader()
	f := c.follower(leader)
	cli := c.client(leader)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	first, err := cli.Put(c.ctx(), "k", "0")
	require.NoError(t, err)
	wch := c.client(f).Watch(clientv3.WithRequireLeader(ctx), "k", clientv3.WithRev(first.Header.Revision))
	require.Len(t, collectEvents(t, wch, 1), 1)
	plain := c.client(f).Watch(ctx, "k", clientv3.WithRev(first.Header.Revision+1))

	c.servers[f].Isolate(true)
	defer c.servers[f].Isolate(false)
	second, err := cli.Put(c.ctx(), "k", "1")
	require.NoError(t, err)
	cut := time.Now()
	resp := nextResponse(t, wch, 10*time.Second)
	require.ErrorIs(t, resp.Err(), rpctypes.ErrNoLeader)
	require.Empty(t, resp.Events, "the cut-off follower never saw the write")
	require.Greater(t, time.Since(cut), 3*testElection, "etcd waits three election timeouts")
	_, open := <-wch
	require.False(t, open)
	noResponse(t, plain, 100*time.Millisecond) // a watch without the requirement stays, silent

	resumed := c.client(c.follower(f)).Watch(ctx, "k", clientv3.WithRev(first.Header.Revision+1))
	require.Equal(t, []string{"PUT k=1@" + itoa(second.Header.Revision)}, describe(collectEvents(t, resumed, 1)))

	c.servers[f].Isolate(false)
	require.Equal(t, []string{"PUT k=1@" + itoa(second.Header.Revision)}, describe(collectEvents(t, plain, 1)),
		"the silent watch catches up after the heal")
}
