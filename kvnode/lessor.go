package kvnode

import (
	"errors"
	"sync"
	"time"
)

// Lease expiry follows etcd's lessor. Which leases exist, their TTLs and
// their keys are replicated (kvstore); when a lease expires is not. Only the
// leader keeps a clock for leases, and only once it is the "primary": after
// it has applied the empty entry that starts its term, every lease is given
// a full TTL plus an election timeout from that moment (etcd's Promote), so
// that a change of leader never expires a lease early, whatever the old
// leader's clock said. Renewals (keepalives) are served by the primary and
// move a lease's expiry to a full TTL from now. When a lease expires, the
// primary proposes its revoke through raft (leaseexpiry.go); followers never
// expire a lease themselves. A leader that steps down forgets its clock
// (etcd's Demote). Restarts therefore renew every lease to a full TTL, as
// etcd does without lease checkpoints (off by default in etcd).

// expiredRetry is how long the primary waits before proposing the revoke of
// an expired lease again, when the first proposal did not take effect
// (etcd's expired-lease retry interval).
const expiredRetry = 3 * time.Second

var (
	// errNotPrimary means this node does not keep the lease clock: it is not
	// the leader, or has not yet applied the first entry of its term.
	errNotPrimary = errors.New("kvnode: not the primary lessor")
	// errLeaseExpired means the lease is past its expiry and its revoke is
	// on the way: the caller waits for the revoke or a change of leader.
	errLeaseExpired = errors.New("kvnode: lease expired")
)

// lessor is the leader's clock for leases. Safe for concurrent use.
type lessor struct {
	mu      sync.Mutex
	primary bool
	// expiry is when each lease expires; set only while primary.
	expiry map[int64]time.Time
	// revoking is when the revoke of an expired lease was last proposed.
	revoking map[int64]time.Time
	// changed is closed and replaced whenever a lease is revoked or the
	// lessor is demoted, which is what a renewal of an expired lease waits
	// for.
	changed chan struct{}
}

func newLessor() *lessor {
	return &lessor{expiry: make(map[int64]time.Time), revoking: make(map[int64]time.Time), changed: make(chan struct{})}
}

func (l *lessor) broadcast() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// promote makes this node the primary: every lease in ttls (granted TTL in
// seconds, by ID) expires a full TTL plus extend from now.
func (l *lessor) promote(ttls map[int64]int64, extend time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.primary = true
	l.expiry = make(map[int64]time.Time, len(ttls))
	l.revoking = make(map[int64]time.Time)
	for id, ttl := range ttls {
		l.expiry[id] = now.Add(extend + seconds(ttl))
	}
}

// demote forgets the clock: this node no longer decides expiry.
func (l *lessor) demote() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.primary {
		return
	}
	l.primary = false
	l.expiry = make(map[int64]time.Time)
	l.revoking = make(map[int64]time.Time)
	l.broadcast()
}

// isPrimary reports whether this node keeps the lease clock.
func (l *lessor) isPrimary() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.primary
}

// granted starts the clock of a lease just granted.
func (l *lessor) granted(id, ttl int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.primary {
		l.expiry[id] = time.Now().Add(seconds(ttl))
	}
}

// revoked forgets a lease just revoked and wakes the renewals waiting on it.
func (l *lessor) revoked(id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.expiry, id)
	delete(l.revoking, id)
	l.broadcast()
}

// resync makes the clock cover exactly the leases in ttls, after the state
// was replaced by a snapshot; a lease new to the clock gets a full TTL.
func (l *lessor) resync(ttls map[int64]int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.primary {
		return
	}
	now := time.Now()
	for id := range l.expiry {
		if _, ok := ttls[id]; !ok {
			delete(l.expiry, id)
		}
	}
	for id, ttl := range ttls {
		if _, ok := l.expiry[id]; !ok {
			l.expiry[id] = now.Add(seconds(ttl))
		}
	}
	l.broadcast()
}

// renew gives the lease id, whose granted TTL is ttl, a full TTL from now.
// The caller has checked, under the state lock, that the lease exists.
// errLeaseExpired comes with the channel to wait on before asking again.
func (l *lessor) renew(id, ttl int64) (<-chan struct{}, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.primary {
		return nil, errNotPrimary
	}
	now := time.Now()
	if at, ok := l.expiry[id]; ok && !now.Before(at) {
		return l.changed, errLeaseExpired
	}
	l.expiry[id] = now.Add(seconds(ttl))
	return nil, nil
}

// remaining returns how long lease id has left, or errNotPrimary.
func (l *lessor) remaining(id, ttl int64) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.primary {
		return 0, errNotPrimary
	}
	at, ok := l.expiry[id]
	if !ok {
		return seconds(ttl), nil
	}
	return time.Until(at), nil
}

// dueForRevoke returns the leases past their expiry whose revoke has not
// been proposed within expiredRetry, and marks them as proposed now.
func (l *lessor) dueForRevoke() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.primary {
		return nil
	}
	now := time.Now()
	var due []int64
	for id, at := range l.expiry {
		if now.Before(at) {
			continue
		}
		if last, ok := l.revoking[id]; ok && now.Sub(last) < expiredRetry {
			continue
		}
		l.revoking[id] = now
		due = append(due, id)
	}
	return due
}

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }
