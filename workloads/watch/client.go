package watch

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
)

// Client performs watch-workload ops for one thread: writes, the
// watches of one watcher process, or a final watch. A watcher keeps its
// session's watch open across its ops and remembers the revision after
// the last one it saw (an event or a progress notification); when the
// watch breaks (its node lost the leader, the history it needs was
// compacted, the connection died) the next op opens a new watch of the
// same spec from there. It implements harness.Client and
// harness.Timeouter.
type Client struct {
	cli  *clientv3.Client
	node string
	opts ClientOptions

	// life bounds every watch; Close cancels it.
	life   context.Context
	cancel context.CancelFunc
	// session is the watcher's current session, nil before its first.
	session *sessionState
	// everyone is a client given every member's endpoint, for the
	// sessions that fail over; opened on first use.
	everyone *clientv3.Client
	// deletes are the revisions of the writer's latest acknowledged
	// writes that deleted a key, oldest first, at most maxDeletes;
	// compacted is the revision of its latest acknowledged compaction.
	// CompactAtDelete compacts on one of them.
	deletes   []int64
	compacted int64
}

// maxDeletes bounds the delete revisions a writer remembers.
const maxDeletes = 64

var (
	_ harness.Client    = (*Client)(nil)
	_ harness.Timeouter = (*Client)(nil)
)

func newClient(cli *clientv3.Client, node string, opts ClientOptions) *Client {
	life, cancel := context.WithCancel(context.Background())
	return &Client{cli: cli, node: node, opts: opts, life: life, cancel: cancel}
}

// Invoke performs a put, delete, txn, compaction, watch or final watch.
// A write that errors is info unless the error proves it never took
// effect.
func (c *Client) Invoke(ctx context.Context, op harness.Op) harness.Op {
	var done harness.Op
	switch op.F {
	case Put:
		done = c.put(ctx, op)
	case Delete:
		done = c.delete(ctx, op)
	case Txn:
		done = c.txn(ctx, op)
	case Compact:
		done = c.compact(ctx, op)
	case Watch:
		done = c.watch(ctx, op)
	case FinalWatch:
		done = c.finalWatch(ctx, op)
	default:
		done = withError(op, harness.Fail, fmt.Sprintf("unknown watch-workload f %q", op.F))
	}
	done.Node = c.node
	return done
}

// OpTimeout bounds a final watch by FinalLimit instead of the run's op
// timeout: the replay's pages bound it more tightly, each by its own
// FinalTimeout, so that its length follows the history's.
func (c *Client) OpTimeout(op harness.Op, def time.Duration) time.Duration {
	if op.F == FinalWatch {
		return max(c.opts.FinalLimit, def)
	}
	return def
}

// key is the full name of a key relative to the prefix.
func (c *Client) key(k string) string { return c.opts.Prefix + k }

func completed(op harness.Op, t harness.Type, v any) harness.Op {
	done := op.Completion(t)
	done.Value = harness.MustValue(v)
	return done
}

func withError(op harness.Op, t harness.Type, reason string) harness.Op {
	done := op.Completion(t)
	done.Error = reason
	return done
}

// Close closes the session's watch and the clients.
func (c *Client) Close() error {
	c.cancel()
	var errs []error
	if c.everyone != nil {
		if err := c.everyone.Close(); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("close the failover watch client of %s: %w", c.node, err))
		}
	}
	if err := c.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
		errs = append(errs, fmt.Errorf("close watch client on %s: %w", c.node, err))
	}
	return errors.Join(errs...)
}
