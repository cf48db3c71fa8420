package kvnode_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/faultline/faultline/kvnode"
)

// TestBugModesAnnounced starts a node in each mode and looks for the loud
// announcement, which a correct node must not print.
func TestBugModesAnnounced(t *testing.T) {
	for _, mode := range []kvnode.BugMode{kvnode.BugNone, kvnode.BugStaleRead, kvnode.BugEarlyAck, kvnode.BugLostRestart,
		kvnode.BugWatchSkipAfterRestart, kvnode.BugLeaseFollowerExpiry} {
		t.Run("mode="+string(mode), func(t *testing.T) {
			c := newTestCluster(t, 1, func(cfg *kvnode.Config) { cfg.Bug = mode })
			c.startAll()
			c.stop(0)
			logs := c.logs.String()
			if mode == kvnode.BugNone {
				require.NotContains(t, logs, "KVNODE BUG")
				return
			}
			require.Contains(t, logs, "KVNODE BUG MODE ENABLED: "+string(mode))
		})
	}
}

// TestLostRestartForgetsWrites shows the lost-restart bug in one node: a
// correct restart keeps an acknowledged write, a buggy one forgets it but
// keeps the member ID.
func TestLostRestartForgetsWrites(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	c.startAll()
	c.waitLeader()
	_, err := c.client(0).Put(c.ctx(), "x", "acknowledged")
	require.NoError(t, err)
	id := c.servers[0].MemberID()

	get := func() *clientv3.GetResponse {
		t.Helper()
		c.waitLeader()
		cli := c.client(0)
		var resp *clientv3.GetResponse
		require.Eventually(t, func() bool {
			resp, err = cli.Get(c.ctx(), "x")
			return err == nil
		}, 10*time.Second, 50*time.Millisecond)
		return resp
	}

	c.stop(0)
	c.start(0)
	require.Len(t, get().Kvs, 1, "a correct restart keeps the write")

	c.stop(0)
	c.cfgs[0].Bug = kvnode.BugLostRestart
	c.start(0)
	require.Equal(t, id, c.servers[0].MemberID(), "the member keeps its identity")
	require.Empty(t, get().Kvs, "lost-restart forgets the acknowledged write")
	require.Contains(t, c.logs.String(), "discarding the WAL and snapshots")
}

// TestLostRestartOfWholeClusterLosesWrites is the crash a Jepsen user runs
// to find lost-restart: every node is killed and restarted, as the harness
// does, with --initial-cluster-state existing. Correct nodes recover the
// write from their WALs. Buggy nodes come back as the same members (same
// IDs), re-found the initial cluster, serve again, and have forgotten the
// acknowledged write.
func TestLostRestartOfWholeClusterLosesWrites(t *testing.T) {
	for _, mode := range []kvnode.BugMode{kvnode.BugNone, kvnode.BugLostRestart} {
		t.Run("mode="+string(mode), func(t *testing.T) {
			c := newTestCluster(t, 3, func(cfg *kvnode.Config) { cfg.Bug = mode })
			c.startAll()
			c.waitLeader()
			_, err := c.client().Put(c.ctx(), "x", "acknowledged")
			require.NoError(t, err)
			ids := make([]uint64, len(c.servers))
			for i, srv := range c.servers {
				ids[i] = srv.MemberID()
			}
			for i := range c.servers {
				c.stop(i)
				c.cfgs[i].InitialClusterState = kvnode.ClusterStateExisting
			}
			c.startAll()
			c.waitLeader()
			for i, srv := range c.servers {
				require.Equal(t, ids[i], srv.MemberID(), "a restarted node keeps its member ID")
			}
			cli := c.client(0)
			var resp *clientv3.GetResponse
			require.Eventually(t, func() bool {
				resp, err = cli.Get(c.ctx(), "x")
				return err == nil
			}, 10*time.Second, 50*time.Millisecond, "the restarted cluster must serve: %v", err)
			if mode == kvnode.BugNone {
				require.Len(t, resp.Kvs, 1, "a correct cluster keeps the acknowledged write")
				return
			}
			require.Empty(t, resp.Kvs, "a cluster of lost-restart nodes forgets the acknowledged write")
		})
	}
}

// TestStaleReadServesOldData shows the stale-read bug: a node that missed a
// write and has no leader still answers a linearizable read, with old data.
// A correct node must refuse (no leader).
func TestStaleReadServesOldData(t *testing.T) {
	for _, mode := range []kvnode.BugMode{kvnode.BugNone, kvnode.BugStaleRead} {
		t.Run("mode="+string(mode), func(t *testing.T) {
			c := newTestCluster(t, 3, func(cfg *kvnode.Config) { cfg.Bug = mode })
			c.startAll()
			c.waitLeader()
			c.stop(2)
			c.waitLeader()
			_, err := c.client(0, 1).Put(c.ctx(), "x", "new")
			require.NoError(t, err)
			c.stop(0)
			c.stop(1)
			c.start(2) // alone: it never saw x and cannot reach a quorum

			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			resp, err := c.client(2).Get(ctx, "x")
			if mode == kvnode.BugNone {
				require.Error(t, err, "a correct node refuses a linearizable read without a leader")
				return
			}
			require.NoError(t, err)
			require.Empty(t, resp.Kvs, "the buggy node serves its stale state")
		})
	}
}

// TestEarlyAckAcknowledgesUncommitted shows the early-ack bug: a leader that
// has lost both followers acknowledges a write it can never commit. A correct
// leader lets the write time out.
func TestEarlyAckAcknowledgesUncommitted(t *testing.T) {
	for _, mode := range []kvnode.BugMode{kvnode.BugNone, kvnode.BugEarlyAck} {
		t.Run("mode="+string(mode), func(t *testing.T) {
			// A long election timeout keeps the lonely leader in office
			// (CheckQuorum) for long enough to take the write.
			c := newTestCluster(t, 3, func(cfg *kvnode.Config) {
				cfg.Bug = mode
				cfg.HeartbeatInterval, cfg.ElectionTimeout = 100*time.Millisecond, 2*time.Second
			})
			c.startAll()
			leader := c.waitLeader()
			cli := c.client(leader)
			for i := range c.servers {
				if i != leader {
					c.stop(i)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			resp, err := cli.Put(ctx, "x", "never committed")
			if mode == kvnode.BugNone {
				require.Error(t, err, "a correct leader cannot commit without a quorum")
				return
			}
			require.NoError(t, err)
			require.NotZero(t, resp.Header.Revision)
			require.True(t, strings.Contains(c.logs.String(), "KVNODE BUG MODE ENABLED: early-ack"))
		})
	}
}

// TestWatchSkipAfterRestartMissesAnEvent resumes a watch, as a client does
// after its node restarted, on the restarted node and on one that did not
// restart. A correct node replays every event from the start revision; the
// buggy restarted node silently drops the first, which the other watcher
// saw: the gap faultline's watch checker reports.
func TestWatchSkipAfterRestartMissesAnEvent(t *testing.T) {
	for _, mode := range []kvnode.BugMode{kvnode.BugNone, kvnode.BugWatchSkipAfterRestart} {
		t.Run("mode="+string(mode), func(t *testing.T) {
			c := newTestCluster(t, 3, func(cfg *kvnode.Config) { cfg.Bug = mode })
			c.startAll()
			leader := c.waitLeader()
			restarted, other := c.follower(leader), leader
			cli := c.client(other)
			var want []string
			var from int64
			for i := range 3 {
				resp, err := cli.Put(c.ctx(), "k", fmt.Sprint(i))
				require.NoError(t, err)
				want = append(want, fmt.Sprintf("PUT k=%d@%d", i, resp.Header.Revision))
				if i == 1 {
					from = resp.Header.Revision
				}
			}
			want = want[1:]
			c.stop(restarted)
			c.start(restarted)
			c.waitLeader()
			rcli := c.client(restarted)
			_, err := rcli.Get(c.ctx(), "k") // caught up
			require.NoError(t, err)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			reference := describe(collectEvents(t, cli.Watch(ctx, "k", clientv3.WithRev(from)), len(want)))
			require.Equal(t, want, reference, "the node that did not restart")
			resumed := rcli.Watch(ctx, "k", clientv3.WithRev(from))
			if mode == kvnode.BugNone {
				require.Equal(t, reference, describe(collectEvents(t, resumed, len(want))), "a correct restarted node misses nothing")
				return
			}
			got := describe(collectEvents(t, resumed, len(want)-1))
			require.Equal(t, reference[1:], got, "the buggy node skips the first event another watcher saw")
			require.Contains(t, c.logs.String(), "KVNODE BUG watch-skip-after-restart")
		})
	}
}

// TestLeaseFollowerExpiryFreesHeldLock holds a concurrency.Mutex from a
// client on the leader, on a session it keeps alive, while a follower is
// cut off for longer than the session's TTL. Back in the cluster, a client
// on that follower tries the lock. A correct follower never expired the
// lease and makes it wait; the buggy one expired it by its own clock,
// dropped the holder's key from its copy, and grants the lock to the second
// client while the first still holds it.
func TestLeaseFollowerExpiryFreesHeldLock(t *testing.T) {
	for _, mode := range []kvnode.BugMode{kvnode.BugNone, kvnode.BugLeaseFollowerExpiry} {
		t.Run("mode="+string(mode), func(t *testing.T) {
			c := newTestCluster(t, 3, func(cfg *kvnode.Config) { cfg.Bug = mode })
			c.startAll()
			leader := c.waitLeader()
			f := c.follower(leader)
			holder, err := concurrency.NewSession(c.client(leader), concurrency.WithTTL(1))
			require.NoError(t, err)
			defer holder.Close()
			held := concurrency.NewMutex(holder, "/lock/")
			require.NoError(t, tryLock(held, 5*time.Second))
			fcli := c.client(f)
			require.Eventually(t, func() bool { // the follower knows the holder's key
				get, err := fcli.Get(c.ctx(), held.Key(), clientv3.WithSerializable())
				return err == nil && len(get.Kvs) == 1
			}, 5*time.Second, 20*time.Millisecond)

			c.servers[f].Isolate(true)
			time.Sleep(3 * time.Second) // leaderless for well over the TTL
			c.servers[f].Isolate(false)
			require.Eventually(t, func() bool { return c.servers[f].Leader() != 0 }, 10*time.Second, 20*time.Millisecond)

			stillHeld, err := c.client(leader).Get(c.ctx(), held.Key())
			require.NoError(t, err)
			require.Len(t, stillHeld.Kvs, 1, "the holder kept its lease alive through the leader")
			second, err := concurrency.NewSession(fcli, concurrency.WithTTL(1))
			require.NoError(t, err)
			defer second.Close()
			err = tryLock(concurrency.NewMutex(second, "/lock/"), 2*time.Second)
			if mode == kvnode.BugNone {
				require.ErrorIs(t, err, context.DeadlineExceeded, "a correct follower makes the second client wait")
				return
			}
			require.NoError(t, err, "the buggy follower hands out a lock that is held")
			require.Contains(t, c.logs.String(), "KVNODE BUG lease-follower-expiry")
		})
	}
}
