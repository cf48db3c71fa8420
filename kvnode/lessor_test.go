package kvnode

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLessorOnlyPrimaryKeepsTime walks the lease clock through etcd's
// lessor rules: nothing expires or renews before promotion, promotion gives
// a full TTL plus the extension, a renewal a full TTL, an expired lease is
// due for a revoke once per retry interval, and demotion forgets it all.
func TestLessorOnlyPrimaryKeepsTime(t *testing.T) {
	l := newLessor()
	l.granted(1, 1)
	require.Empty(t, l.dueForRevoke(), "a follower never finds a lease due")
	_, err := l.renew(1, 1)
	require.ErrorIs(t, err, errNotPrimary)
	_, err = l.remaining(1, 1)
	require.ErrorIs(t, err, errNotPrimary)

	l.promote(map[int64]int64{1: 1, 2: 100}, 500*time.Millisecond)
	require.True(t, l.isPrimary())
	left, err := l.remaining(1, 1)
	require.NoError(t, err)
	require.InDelta(t, 1500*time.Millisecond, left, float64(100*time.Millisecond), "a full TTL plus the extension")

	time.Sleep(1600 * time.Millisecond)
	require.Equal(t, []int64{1}, l.dueForRevoke())
	require.Empty(t, l.dueForRevoke(), "not proposed again within the retry interval")
	wait, err := l.renew(1, 1)
	require.ErrorIs(t, err, errLeaseExpired, "an expired lease is not renewed")
	l.revoked(1)
	select {
	case <-wait:
	default:
		t.Fatal("a revoke wakes the renewals waiting on the lease")
	}

	_, err = l.renew(2, 100)
	require.NoError(t, err)
	left, err = l.remaining(2, 100)
	require.NoError(t, err)
	require.Greater(t, left, 99*time.Second)

	l.granted(3, 1)
	left, err = l.remaining(3, 1)
	require.NoError(t, err)
	require.LessOrEqual(t, left, time.Second, "granted while primary: a TTL from now, no extension")

	l.demote()
	require.False(t, l.isPrimary())
	require.Empty(t, l.dueForRevoke())
	_, err = l.renew(2, 100)
	require.ErrorIs(t, err, errNotPrimary)
}
