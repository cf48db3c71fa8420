package kvnode_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// tryLock tries to take m within d.
func tryLock(m *concurrency.Mutex, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return m.Lock(ctx)
}

// TestMutexExcludesAcrossNodes runs clientv3's concurrency.Mutex, on
// session leases, from two clients on different nodes: the second waits
// while the first holds the lock (for longer than the session TTL, kept
// alive by the session), gets it once the first unlocks, and gets it when
// a holder dies without unlocking once its lease expires, not before.
func TestMutexExcludesAcrossNodes(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.startAll()
	leader := c.waitLeader()
	c1, c2 := c.client(leader), c.client(c.follower(leader))

	s1, err := concurrency.NewSession(c1, concurrency.WithTTL(1))
	require.NoError(t, err)
	defer s1.Close()
	s2, err := concurrency.NewSession(c2, concurrency.WithTTL(1))
	require.NoError(t, err)
	defer s2.Close()
	m1 := concurrency.NewMutex(s1, "/lock/")
	m2 := concurrency.NewMutex(s2, "/lock/")

	require.NoError(t, tryLock(m1, 5*time.Second))
	require.ErrorIs(t, tryLock(m2, 3*time.Second), context.DeadlineExceeded, "the lock is held (for three TTLs)")
	require.NoError(t, m1.Unlock(c.ctx()))
	start := time.Now()
	require.NoError(t, tryLock(m2, 5*time.Second), "the lock is free after unlock")
	require.Less(t, time.Since(start), time.Second)

	// The holder dies: its keepalives stop, and the lock frees itself once
	// the lease expires.
	require.NoError(t, m2.Unlock(c.ctx()))
	s3, err := concurrency.NewSession(c1, concurrency.WithTTL(2))
	require.NoError(t, err)
	m3 := concurrency.NewMutex(s3, "/lock/")
	require.NoError(t, tryLock(m3, 5*time.Second))
	s3.Orphan() // stops the keepalives, leaves the lease to expire
	died := time.Now()
	m4 := concurrency.NewMutex(s2, "/lock/")
	require.NoError(t, tryLock(m4, 10*time.Second), "the lock frees itself when the dead holder's lease expires")
	// The last renewal came at most a third of the TTL before the death.
	require.GreaterOrEqual(t, time.Since(died), 1300*time.Millisecond, "freed before the lease could have expired")
	require.NoError(t, m4.Unlock(c.ctx()))
}
