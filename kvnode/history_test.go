package kvnode_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/kvnode"
)

// TestLeasesAndHistorySurviveRestart restarts the whole cluster (from
// snapshots and WALs, with a snapshot every 20 entries): the lease, its key
// and the whole history are still there, and the restarted leader still
// expires the lease, which nobody keeps alive.
func TestLeasesAndHistorySurviveRestart(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.startAll()
	c.waitLeader()
	cli := c.client()
	var want []string
	var first int64
	for i := range 30 {
		resp, err := cli.Put(c.ctx(), "h", fmt.Sprint(i))
		require.NoError(t, err)
		if i == 0 {
			first = resp.Header.Revision
		}
		want = append(want, fmt.Sprintf("PUT h=%d@%d", i, resp.Header.Revision))
	}
	l, err := cli.Grant(c.ctx(), 3)
	require.NoError(t, err)
	_, err = cli.Put(c.ctx(), "leased", "v", clientv3.WithLease(l.ID))
	require.NoError(t, err)

	for i := range c.servers {
		c.stop(i)
	}
	c.startAll()
	c.waitLeader()
	cli = c.client()
	started := time.Now()
	var leases *clientv3.LeaseLeasesResponse
	require.Eventually(t, func() bool {
		leases, err = cli.Leases(c.ctx())
		return err == nil
	}, 10*time.Second, 50*time.Millisecond)
	require.Len(t, leases.Leases, 1)
	require.Equal(t, l.ID, leases.Leases[0].ID)
	ttl, err := cli.TimeToLive(c.ctx(), l.ID)
	require.NoError(t, err)
	require.EqualValues(t, 3, ttl.GrantedTTL)
	get, err := cli.Get(c.ctx(), "leased")
	require.NoError(t, err)
	require.Len(t, get.Kvs, 1)
	require.Equal(t, int64(l.ID), get.Kvs[0].Lease)

	for i := range c.servers {
		wch := c.client(i).Watch(context.Background(), "h", clientv3.WithRev(first))
		require.Equal(t, want, describe(collectEvents(t, wch, len(want))), "node %d replays the history", i)
	}
	require.Eventually(t, func() bool {
		get, err := cli.Get(c.ctx(), "leased")
		return err == nil && len(get.Kvs) == 0
	}, 15*time.Second, 100*time.Millisecond, "the restarted cluster expires the lease")
	require.Greater(t, time.Since(started), 2*time.Second, "not before a full TTL after the restart")
}

// TestSnapshotCarriesLeasesAndHistory brings a stopped follower back after
// the leader compacted its log: the follower is restored from a snapshot,
// and must serve the same leases and the same history (and compaction
// point) as the others, from its own state.
func TestSnapshotCarriesLeasesAndHistory(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *kvnode.Config) { cfg.AutoCompactionRetention = 0 })
	c.startAll()
	f := c.follower(c.waitLeader())
	c.stop(f)
	c.waitLeader()
	var survivors []int
	for i := range c.servers {
		if i != f {
			survivors = append(survivors, i)
		}
	}
	cli := c.client(survivors...)

	var revs []int64
	for i := range 60 {
		resp, err := cli.Put(c.ctx(), "h", fmt.Sprint(i))
		require.NoError(t, err)
		revs = append(revs, resp.Header.Revision)
	}
	l, err := cli.Grant(c.ctx(), 60)
	require.NoError(t, err)
	leased, err := cli.Put(c.ctx(), "leased", "v", clientv3.WithLease(l.ID))
	require.NoError(t, err)
	compactAt := revs[40]
	_, err = cli.Compact(c.ctx(), compactAt)
	require.NoError(t, err)
	for i := range 25 { // more entries, so that a snapshot includes the compaction
		_, err := cli.Put(c.ctx(), "other", fmt.Sprint(i))
		require.NoError(t, err)
	}

	c.start(f)
	fcli := c.client(f)
	require.Eventually(t, func() bool {
		get, err := fcli.Get(c.ctx(), "leased", clientv3.WithSerializable())
		return err == nil && len(get.Kvs) == 1
	}, 10*time.Second, 50*time.Millisecond)
	require.Contains(t, c.logs.String(), "restored snapshot from leader", "the follower must have been restored from a snapshot")

	get, err := fcli.Get(c.ctx(), "leased", clientv3.WithSerializable())
	require.NoError(t, err)
	require.Equal(t, int64(l.ID), get.Kvs[0].Lease)
	require.Equal(t, leased.Header.Revision, get.Kvs[0].ModRevision)
	leases, err := fcli.Leases(c.ctx())
	require.NoError(t, err)
	require.Len(t, leases.Leases, 1)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wch := fcli.Watch(ctx, "h", clientv3.WithRev(compactAt))
	evs := collectEvents(t, wch, 60-40)
	require.Equal(t, compactAt, evs[0].Kv.ModRevision)
	require.Equal(t, revs[59], evs[len(evs)-1].Kv.ModRevision)
	old, err := fcli.Get(c.ctx(), "h", clientv3.WithRev(compactAt), clientv3.WithSerializable())
	require.NoError(t, err)
	require.Equal(t, "40", string(old.Kvs[0].Value), "an old revision read from the restored history")

	compacted := fcli.Watch(ctx, "h", clientv3.WithRev(compactAt-1))
	resp := nextResponse(t, compacted, 5*time.Second)
	require.Equal(t, compactAt, resp.CompactRevision, "below the snapshot's compaction point")
	_, err = fcli.Get(c.ctx(), "h", clientv3.WithRev(compactAt-1), clientv3.WithSerializable())
	require.ErrorIs(t, err, rpctypes.ErrCompacted)
	require.False(t, strings.Contains(c.logs.String(), "KVNODE BUG"))
}

// TestAutoCompaction writes past a small retention: the leader compacts
// the history, through raft, so that every node keeps about the retention.
func TestAutoCompaction(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *kvnode.Config) { cfg.AutoCompactionRetention = 10 })
	c.startAll()
	c.waitLeader()
	cli := c.client()
	var last int64
	for i := range 30 {
		resp, err := cli.Put(c.ctx(), "k", fmt.Sprint(i))
		require.NoError(t, err)
		last = resp.Header.Revision
	}
	for i := range c.servers {
		ncli := c.client(i)
		require.Eventually(t, func() bool {
			_, err := ncli.Get(c.ctx(), "k", clientv3.WithRev(last-11), clientv3.WithSerializable())
			return err != nil
		}, 10*time.Second, 100*time.Millisecond, "node %d compacts", i)
		_, err := ncli.Get(c.ctx(), "k", clientv3.WithRev(last-11), clientv3.WithSerializable())
		require.ErrorIs(t, err, rpctypes.ErrCompacted)
		old, err := ncli.Get(c.ctx(), "k", clientv3.WithRev(last-10), clientv3.WithSerializable())
		require.NoError(t, err, "the retained revisions stay readable")
		require.Equal(t, "19", string(old.Kvs[0].Value))
	}
}
