package lock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/register"
)

// Client performs lock ops for one thread: it keeps a concurrency.Session
// (a lease with keepalives) and, while it believes it holds the lock, the
// concurrency.Mutex. It implements harness.Client.
//
// Whenever the client cannot tell whether it holds the lock (an acquire,
// a guarded write or a release ended in an error that may hide an
// effect), it abandons its session: it stops the keepalives and revokes
// the lease in the background, so that whatever the store granted it
// expires within the TTL. The next acquire opens a fresh session. So an
// info op never leaves the lock held for longer than the TTL.
type Client struct {
	cli     *clientv3.Client
	node    string
	opts    ClientOptions
	guarded guardedSet

	// life bounds the sessions' keepalives; Close cancels it.
	life    context.Context
	cancel  context.CancelFunc
	process harness.Process
	session *concurrency.Session
	// mutex is non-nil while the client believes it holds the lock.
	mutex   *concurrency.Mutex
	revokes sync.WaitGroup
}

// cleanupGrace is how long past the op's deadline an acquire may take to
// remove its claim. concurrency.Mutex.Lock removes the claim of a wait
// that timed out with no deadline of its own, which under a partition can
// block until the node serves again; past the grace the client abandons
// the session instead and reports info.
const cleanupGrace = time.Second

func newClient(cli *clientv3.Client, node string, opts ClientOptions, guarded guardedSet) *Client {
	life, cancel := context.WithCancel(context.Background())
	// No op has process -2 (the nemesis is -1), so the first op is a new
	// process.
	return &Client{cli: cli, node: node, opts: opts, guarded: guarded, life: life, cancel: cancel, process: -2}
}

// Invoke performs an acquire, add, release or final read.
func (c *Client) Invoke(ctx context.Context, op harness.Op) harness.Op {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if op.Process != c.process {
		// A fresh process never inherits a hold: its predecessor ended
		// with info, and the client gave that hold up already.
		if c.mutex != nil {
			c.abandon()
		}
		c.process = op.Process
	}
	var done harness.Op
	switch op.F {
	case Acquire:
		done = c.acquire(ctx, op)
	case Add:
		done = c.add(ctx, op)
	case Release:
		done = c.release(ctx, op)
	case FinalRead:
		done = c.read(ctx, op)
	default:
		done = failed(op, fmt.Sprintf("unknown lock f %q (want %s, %s, %s or %s)", op.F, Acquire, Add, Release, FinalRead))
	}
	done.Node = c.node
	return done
}

// openSession returns a live session, granting a fresh lease if the old
// one has expired. The lease is granted under the op's deadline;
// concurrency.NewSession would grant it under the client's lifetime.
func (c *Client) openSession(ctx context.Context) (*concurrency.Session, error) {
	if c.session != nil {
		select {
		case <-c.session.Done():
			c.abandon()
		default:
			return c.session, nil
		}
	}
	lease, err := c.cli.Grant(ctx, int64(c.opts.TTL/time.Second))
	if err != nil {
		return nil, fmt.Errorf("grant lease: %w", err)
	}
	s, err := concurrency.NewSession(c.cli, concurrency.WithLease(lease.ID), concurrency.WithContext(c.life))
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	c.session = s
	return s, nil
}

func (c *Client) acquire(ctx context.Context, op harness.Op) harness.Op {
	if c.mutex != nil {
		return failed(op, "already holding the lock")
	}
	s, err := c.openSession(ctx)
	if err != nil {
		// A lease nobody uses holds no lock: whatever happened, this
		// acquire certainly did not.
		return failed(op, err.Error())
	}
	m := concurrency.NewMutex(s, c.opts.Prefix+"lock")
	result := make(chan error, 1)
	go func() { result <- m.Lock(ctx) }()
	select {
	case err = <-result:
	case <-ctx.Done():
		select {
		case err = <-result:
		case <-time.After(cleanupGrace):
			c.abandon()
			return withError(op, harness.Info, "lock: timed out and its claim could not be removed; session abandoned")
		}
	}
	switch {
	case err == nil:
		c.mutex = m
		done := op.Completion(harness.OK)
		done.Value = harness.MustValue(AcquireValue{Key: m.Key(), Revision: m.Header().Revision})
		return done
	case errors.Is(err, concurrency.ErrSessionExpired):
		c.abandon()
		return withError(op, harness.Fail, "lock: the session expired while waiting")
	case m.Key() == "\x00":
		// Lock removed its claim after the wait failed.
		return withError(op, harness.Fail, fmt.Sprintf("lock: gave up waiting (%v); claim removed", err))
	}
	// The claim may still be there, and may become the lock.
	c.abandon()
	return withError(op, harness.Info, fmt.Sprintf("lock: %v; session abandoned", err))
}

func (c *Client) add(ctx context.Context, op harness.Op) harness.Op {
	var e int
	if err := op.DecodeValue(&e); err != nil {
		return failed(op, err.Error())
	}
	if c.mutex == nil {
		return failed(op, "not holding the lock")
	}
	done := c.guarded.add(ctx, op, e, c.opts.Hold, c.mutex.IsOwner())
	if done.Type == harness.Info {
		c.abandon()
	}
	return done
}

func (c *Client) release(ctx context.Context, op harness.Op) harness.Op {
	if c.mutex == nil {
		return failed(op, "not holding the lock")
	}
	m := c.mutex
	c.mutex = nil
	if err := m.Unlock(ctx); err != nil {
		// The lease's expiry will release whatever the delete did not.
		c.abandon()
		return withError(op, register.Outcome(true, err), fmt.Sprintf("unlock: %v; session abandoned", err))
	}
	return op.Completion(harness.OK)
}

func (c *Client) read(ctx context.Context, op harness.Op) harness.Op {
	elements, err := c.guarded.read(ctx)
	if err != nil {
		return failed(op, err.Error())
	}
	done := op.Completion(harness.OK)
	done.Value = harness.MustValue(elements)
	return done
}

// abandon gives up the session and any hold: keepalives stop at once,
// and the lease is revoked in the background (bounded by the TTL, after
// which it has expired anyway).
func (c *Client) abandon() {
	c.mutex = nil
	if c.session == nil {
		return
	}
	s := c.session
	c.session = nil
	s.Orphan()
	c.revokes.Add(1)
	go func() {
		defer c.revokes.Done()
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.TTL)
		defer cancel()
		_, _ = c.cli.Revoke(ctx, s.Lease())
	}()
}

// Close gives up the session, waits for the revokes in flight and closes
// the clientv3 client.
func (c *Client) Close() error {
	c.abandon()
	c.revokes.Wait()
	c.cancel()
	if err := c.cli.Close(); err != nil {
		return fmt.Errorf("close lock client on %s: %w", c.node, err)
	}
	return nil
}

func withError(op harness.Op, t harness.Type, reason string) harness.Op {
	done := op.Completion(t)
	done.Error = reason
	return done
}
