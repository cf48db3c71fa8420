package watch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/register"
)

// Client performs watch-workload ops for one thread. A watcher thread
// keeps one watch stream open across its ops and remembers the revision
// after the last event it saw; when the stream breaks (the node lost its
// leader, the server cancelled it) the next op reopens it from there, so
// the events of all its ops together should be one unbroken sequence.
// It implements harness.Client.
type Client struct {
	cli  *clientv3.Client
	node string
	opts ClientOptions

	// life bounds the watch stream; Close cancels it.
	life   context.Context
	cancel context.CancelFunc
	// stream is the open watch, nil when it must be (re)opened; next is
	// the revision to resume from.
	stream      clientv3.WatchChan
	closeStream context.CancelFunc
	next        int64
}

// margin is kept between the end of a watch window and the op's
// deadline, so that a watch completes ok rather than running out of time.
const margin = 100 * time.Millisecond

func newClient(cli *clientv3.Client, node string, opts ClientOptions) *Client {
	life, cancel := context.WithCancel(context.Background())
	return &Client{cli: cli, node: node, opts: opts, life: life, cancel: cancel, next: opts.StartRevision}
}

// Invoke performs a write, a watch or a final watch. A write that errors
// is info unless the error proves it never took effect; a watch that saw
// nothing before an error fails; a watch never ends info.
func (c *Client) Invoke(ctx context.Context, op harness.Op) harness.Op {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var done harness.Op
	switch op.F {
	case Write:
		done = c.write(ctx, op)
	case Watch:
		done = c.watch(ctx, op)
	case FinalWatch:
		done = c.finalWatch(ctx, op)
	default:
		done = withError(op, harness.Fail, fmt.Sprintf("unknown watch f %q (want %s, %s or %s)", op.F, Write, Watch, FinalWatch))
	}
	done.Node = c.node
	return done
}

func (c *Client) write(ctx context.Context, op harness.Op) harness.Op {
	var v int
	if err := op.DecodeValue(&v); err != nil {
		return withError(op, harness.Fail, err.Error())
	}
	resp, err := c.cli.Put(ctx, c.opts.Key, strconv.Itoa(v))
	if err != nil {
		return withError(op, register.Outcome(true, err), fmt.Sprintf("put %s: %v", c.opts.Key, err))
	}
	done := op.Completion(harness.OK)
	done.Value = harness.MustValue(WriteValue{Value: v, Revision: resp.Header.Revision})
	return done
}

// watch collects events from the thread's stream for one window.
func (c *Client) watch(ctx context.Context, op harness.Op) harness.Op {
	var v WatchValue
	if c.stream == nil {
		// WithRequireLeader makes a node cut off from the leader cancel
		// the stream instead of leaving it silent, so that the resume
		// path is exercised.
		sctx, cancel := context.WithCancel(clientv3.WithRequireLeader(c.life))
		c.stream, c.closeStream = c.cli.Watch(sctx, c.opts.Key, clientv3.WithRev(c.next)), cancel
		v.From = c.next
	}
	window := c.opts.Window
	if deadline, ok := ctx.Deadline(); ok {
		window = min(window, time.Until(deadline)-margin)
	}
	timer := time.NewTimer(max(window, 0))
	defer timer.Stop()
	for v.Error == "" {
		select {
		case <-timer.C:
			return watched(op, v)
		case <-ctx.Done():
			return watched(op, v)
		case resp, ok := <-c.stream:
			if !ok {
				v.Error = "watch channel closed"
				break
			}
			v.Events = append(v.Events, events(resp)...)
			if n := len(v.Events); n > 0 {
				c.next = v.Events[n-1].Revision + 1
			}
			if err := resp.Err(); err != nil {
				v.Error = err.Error()
			}
		}
	}
	c.closeStream()
	c.stream = nil
	if len(v.Events) == 0 {
		return withError(op, harness.Fail, "watch: "+v.Error)
	}
	return watched(op, v)
}

// finalWatch reads the key's latest revision and watches from the start
// until it gets there.
func (c *Client) finalWatch(ctx context.Context, op harness.Op) harness.Op {
	resp, err := c.cli.Get(ctx, c.opts.Key)
	if err != nil {
		return withError(op, harness.Fail, fmt.Sprintf("get %s: %v", c.opts.Key, err))
	}
	v := WatchValue{From: c.opts.StartRevision, Events: []Event{}}
	if len(resp.Kvs) == 0 {
		v.Complete = true
		return watched(op, v)
	}
	v.Target = resp.Kvs[0].ModRevision
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream := c.cli.Watch(wctx, c.opts.Key, clientv3.WithRev(c.opts.StartRevision))
	for !v.Complete && v.Error == "" {
		select {
		case <-ctx.Done():
			v.Error = fmt.Sprintf("ran out of time before revision %d", v.Target)
		case wr, ok := <-stream:
			if !ok {
				v.Error = "watch channel closed"
				break
			}
			v.Events = append(v.Events, events(wr)...)
			if n := len(v.Events); n > 0 && v.Events[n-1].Revision >= v.Target {
				v.Complete = true
			}
			if err := wr.Err(); err != nil && !v.Complete {
				v.Error = err.Error()
			}
		}
	}
	if len(v.Events) == 0 {
		return withError(op, harness.Fail, "final watch: "+v.Error)
	}
	return watched(op, v)
}

// events converts one watch response.
func events(resp clientv3.WatchResponse) []Event {
	out := make([]Event, 0, len(resp.Events))
	for _, ev := range resp.Events {
		out = append(out, Event{Revision: ev.Kv.ModRevision, Value: string(ev.Kv.Value), Delete: ev.Type == clientv3.EventTypeDelete})
	}
	return out
}

func watched(op harness.Op, v WatchValue) harness.Op {
	done := op.Completion(harness.OK)
	done.Value = harness.MustValue(v)
	return done
}

func withError(op harness.Op, t harness.Type, reason string) harness.Op {
	done := op.Completion(t)
	done.Error = reason
	return done
}

// Close closes the watch stream and the clientv3 client.
func (c *Client) Close() error {
	c.cancel()
	if err := c.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("close watch client on %s: %w", c.node, err)
	}
	return nil
}
