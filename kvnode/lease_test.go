package kvnode_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/kvnode"
)

// TestLeaseLifecycle drives the Lease API with clientv3: grant (with and
// without an ID, below the minimum TTL), attach keys, TimeToLive with keys,
// Leases, KeepAliveOnce, a Txn comparing leases, and a revoke that deletes
// the keys in one revision, seen by a watcher as delete events.
func TestLeaseLifecycle(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.startAll()
	c.waitLeader()
	cli := c.client()

	l1, err := cli.Grant(c.ctx(), 5)
	require.NoError(t, err)
	require.NotZero(t, l1.ID)
	require.Greater(t, int64(l1.ID), int64(0), "chosen IDs are positive")
	require.EqualValues(t, 5, l1.TTL)
	l2, err := cli.Grant(c.ctx(), 0)
	require.NoError(t, err)
	require.EqualValues(t, 1, l2.TTL, "a TTL below the minimum is raised to it (1.5 election timeouts, rounded up)")
	withID, err := clientv3.RetryLeaseClient(cli).LeaseGrant(c.ctx(), &pb.LeaseGrantRequest{ID: 0x1234, TTL: 7})
	require.NoError(t, err)
	require.EqualValues(t, 0x1234, withID.ID)
	_, err = clientv3.RetryLeaseClient(cli).LeaseGrant(c.ctx(), &pb.LeaseGrantRequest{ID: 0x1234, TTL: 7})
	require.ErrorIs(t, err, rpctypes.ErrGRPCLeaseExist)

	for _, k := range []string{"l/b", "l/a"} {
		_, err = cli.Put(c.ctx(), k, "v", clientv3.WithLease(l1.ID))
		require.NoError(t, err)
	}
	get, err := cli.Get(c.ctx(), "l/a")
	require.NoError(t, err)
	require.Equal(t, int64(l1.ID), get.Kvs[0].Lease)
	_, err = cli.Put(c.ctx(), "l/x", "v", clientv3.WithLease(0x999))
	require.ErrorIs(t, err, rpctypes.ErrLeaseNotFound)

	ttl, err := cli.TimeToLive(c.ctx(), l1.ID, clientv3.WithAttachedKeys())
	require.NoError(t, err)
	require.EqualValues(t, 5, ttl.GrantedTTL)
	require.True(t, ttl.TTL >= 3 && ttl.TTL <= 5, "remaining TTL %d", ttl.TTL)
	require.Equal(t, [][]byte{[]byte("l/a"), []byte("l/b")}, ttl.Keys)

	leases, err := cli.Leases(c.ctx())
	require.NoError(t, err)
	var ids []clientv3.LeaseID
	for _, l := range leases.Leases {
		ids = append(ids, l.ID)
	}
	require.ElementsMatch(t, []clientv3.LeaseID{l1.ID, l2.ID, 0x1234}, ids)

	ka, err := cli.KeepAliveOnce(c.ctx(), l1.ID)
	require.NoError(t, err)
	require.EqualValues(t, 5, ka.TTL)

	// LEASE compares in a Txn.
	putTxn, err := cli.Txn(c.ctx()).
		If(clientv3.Compare(clientv3.LeaseValue("l/a"), "=", l1.ID), clientv3.Compare(clientv3.LeaseValue("l/none"), "=", 0)).
		Then(clientv3.OpPut("l/c", "txn", clientv3.WithLease(l1.ID))).Commit()
	require.NoError(t, err)
	require.True(t, putTxn.Succeeded)
	txn, err := cli.Txn(c.ctx()).If(clientv3.Compare(clientv3.LeaseValue("l/a"), "=", l2.ID)).Commit()
	require.NoError(t, err)
	require.False(t, txn.Succeeded)

	wch := cli.Watch(context.Background(), "l/", clientv3.WithPrefix(), clientv3.WithRev(putTxn.Header.Revision+1))
	revoke, err := cli.Revoke(c.ctx(), l1.ID)
	require.NoError(t, err)
	resp := nextResponse(t, wch, 5*time.Second)
	require.Equal(t, []string{
		"DELETE l/a@" + itoa(revoke.Header.Revision),
		"DELETE l/b@" + itoa(revoke.Header.Revision),
		"DELETE l/c@" + itoa(revoke.Header.Revision),
	}, describe(resp.Events), "one revision, one response, key order")

	all, err := cli.Get(c.ctx(), "l/", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Empty(t, all.Kvs)
	ttl, err = cli.TimeToLive(c.ctx(), l1.ID)
	require.NoError(t, err)
	require.EqualValues(t, -1, ttl.TTL, "a revoked lease has TTL -1")
	_, err = cli.KeepAliveOnce(c.ctx(), l1.ID)
	require.ErrorIs(t, err, rpctypes.ErrLeaseNotFound)
	_, err = cli.Revoke(c.ctx(), l1.ID)
	require.ErrorIs(t, err, rpctypes.ErrLeaseNotFound)
}

// TestLeaseExpires grants a lease nobody keeps alive: the leader revokes it
// after its TTL, not before, and a watcher sees its key deleted.
func TestLeaseExpires(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.startAll()
	c.waitLeader()
	cli := c.client()

	granted := time.Now()
	l, err := cli.Grant(c.ctx(), 2)
	require.NoError(t, err)
	put, err := cli.Put(c.ctx(), "k", "v", clientv3.WithLease(l.ID))
	require.NoError(t, err)
	wch := cli.Watch(context.Background(), "k", clientv3.WithRev(put.Header.Revision+1))
	resp := nextResponse(t, wch, 10*time.Second)
	expiredAfter := time.Since(granted)
	require.Len(t, resp.Events, 1)
	require.Equal(t, mvccpb.DELETE, resp.Events[0].Type)
	require.GreaterOrEqual(t, expiredAfter, 2*time.Second, "expired before its TTL")
	get, err := cli.Get(c.ctx(), "k")
	require.NoError(t, err)
	require.Empty(t, get.Kvs)
	_, err = cli.KeepAliveOnce(c.ctx(), l.ID)
	require.ErrorIs(t, err, rpctypes.ErrLeaseNotFound)
}

// TestLeaseKeepAliveThroughFollower keeps a lease alive with a client that
// only knows a follower, which forwards the renewals to the leader, as
// etcd's followers do. The lease outlives several TTLs, and expires once
// the keepalives stop.
func TestLeaseKeepAliveThroughFollower(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.startAll()
	f := c.follower(c.waitLeader())
	cli := c.client(f)

	l, err := cli.Grant(c.ctx(), 1)
	require.NoError(t, err)
	_, err = cli.Put(c.ctx(), "k", "v", clientv3.WithLease(l.ID))
	require.NoError(t, err)
	kactx, stop := context.WithCancel(context.Background())
	defer stop()
	kach, err := cli.KeepAlive(kactx, l.ID)
	require.NoError(t, err)
	renewals := 0
	deadline := time.After(4 * time.Second)
	for done := false; !done; {
		select {
		case ka, ok := <-kach:
			require.True(t, ok, "keepalive channel closed")
			require.EqualValues(t, 1, ka.TTL)
			renewals++
		case <-deadline:
			done = true
		}
	}
	require.GreaterOrEqual(t, renewals, 4, "keepalives every third of the TTL")
	get, err := cli.Get(c.ctx(), "k")
	require.NoError(t, err)
	require.Len(t, get.Kvs, 1, "the lease lived four TTLs on forwarded keepalives")
	ttl, err := cli.TimeToLive(c.ctx(), l.ID)
	require.NoError(t, err, "TimeToLive is forwarded too")
	require.EqualValues(t, 1, ttl.GrantedTTL)

	stop()
	require.Eventually(t, func() bool {
		get, err := cli.Get(c.ctx(), "k")
		return err == nil && len(get.Kvs) == 0
	}, 10*time.Second, 100*time.Millisecond, "the lease must expire once keepalives stop")
}

// TestLeaseExpiryOnlyByLeader isolates a follower for longer than a lease's
// TTL: the leader expires the lease through raft, while the follower, with
// no leader and its own clock, keeps the key until the revoke reaches it.
func TestLeaseExpiryOnlyByLeader(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.startAll()
	leader := c.waitLeader()
	f := c.follower(leader)
	cli := c.client(leader)
	fcli := c.client(f)

	l, err := cli.Grant(c.ctx(), 1)
	require.NoError(t, err)
	_, err = cli.Put(c.ctx(), "k", "v", clientv3.WithLease(l.ID))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		get, err := fcli.Get(c.ctx(), "k", clientv3.WithSerializable())
		return err == nil && len(get.Kvs) == 1
	}, 5*time.Second, 20*time.Millisecond)

	c.servers[f].Isolate(true)
	require.Eventually(t, func() bool {
		get, err := cli.Get(c.ctx(), "k")
		return err == nil && len(get.Kvs) == 0
	}, 10*time.Second, 50*time.Millisecond, "the leader expires the lease")
	time.Sleep(2 * time.Second) // the follower has been leaderless for more than the TTL
	require.Zero(t, c.servers[f].Leader(), "the isolated follower has no leader")
	get, err := fcli.Get(c.ctx(), "k", clientv3.WithSerializable())
	require.NoError(t, err)
	require.Len(t, get.Kvs, 1, "a follower never expires a lease by its own clock")

	c.servers[f].Isolate(false)
	require.Eventually(t, func() bool {
		get, err := fcli.Get(c.ctx(), "k", clientv3.WithSerializable())
		return err == nil && len(get.Kvs) == 0
	}, 10*time.Second, 50*time.Millisecond, "the leader's revoke reaches the follower through raft")
}

// TestLeaseRenewedOnLeaderChange renews a lease, then stops the leader: the
// new leader gives every lease a full TTL from its election plus an
// election timeout, so the lease outlives the TTL the old leader had left
// it, and still expires later without keepalives. A long election timeout
// (2 s) keeps the two clocks far apart.
func TestLeaseRenewedOnLeaderChange(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *kvnode.Config) {
		cfg.HeartbeatInterval, cfg.ElectionTimeout = 100*time.Millisecond, 2*time.Second
	})
	c.startAll()
	leader := c.waitLeader()
	cli := c.client()

	l, err := cli.Grant(c.ctx(), 3)
	require.NoError(t, err)
	require.EqualValues(t, 3, l.TTL, "the minimum TTL with a 2 s election timeout")
	_, err = cli.Put(c.ctx(), "k", "v", clientv3.WithLease(l.ID))
	require.NoError(t, err)
	_, err = cli.KeepAliveOnce(c.ctx(), l.ID)
	require.NoError(t, err)
	renewed := time.Now()
	c.stop(leader)
	newLeader := c.waitLeader()
	require.Greater(t, time.Since(renewed), 2*time.Second, "an election takes an election timeout")
	scli := c.client(newLeader)

	ttl, err := scli.TimeToLive(c.ctx(), l.ID)
	require.NoError(t, err)
	require.EqualValues(t, 3, ttl.GrantedTTL)
	// The old leader's clock would leave at most 3 - 2 = 1 s; the new
	// leader's gives 3 + 2 s from its election.
	require.GreaterOrEqual(t, ttl.TTL, int64(3), "the new leader restarted the lease's clock")
	time.Sleep(time.Until(renewed.Add(4500 * time.Millisecond)))
	get, err := scli.Get(c.ctx(), "k")
	require.NoError(t, err)
	require.Len(t, get.Kvs, 1, "alive past the TTL the old leader had left it")
	require.Eventually(t, func() bool {
		get, err := scli.Get(c.ctx(), "k")
		return err == nil && len(get.Kvs) == 0
	}, 15*time.Second, 100*time.Millisecond, "the new leader expires it in the end")
}
