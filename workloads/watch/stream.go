package watch

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"

	"github.com/faultline/faultline/harness"
)

// sessionState is a watcher's session: its spec, its open watch, and the
// revision to resume from.
type sessionState struct {
	spec WatchSpec
	// watches counts the watches opened so far.
	watches int
	// ch is the open watch, nil when the next op must open one; stop
	// cancels it; cli is the client it was opened on; onStream gives a
	// context the metadata that names its gRPC stream, which
	// RequestProgress must name too.
	ch       clientv3.WatchChan
	stop     context.CancelFunc
	cli      *clientv3.Client
	onStream func(context.Context) context.Context
	// from is the revision the open watch asked for (0: now).
	from int64
	// next is the revision to resume from: after the last event or
	// progress notification seen, or the compact revision of a
	// cancellation; 0 before anything was seen.
	next int64
}

// streamKey is the gRPC metadata that gives every watch a gRPC stream
// of its own. clientv3 shares a stream between the watches of one client
// whose contexts carry the same metadata, and broadcasts a progress
// notification answering RequestProgress to every watch on the stream:
// a notification meant for a closing watch could reach the next one.
const streamKey = "faultline-watch"

// watch reads the session's watch for one window, opening a new watch
// first when the op begins a new session or the last one broke.
func (c *Client) watch(ctx context.Context, op harness.Op) harness.Op {
	var spec WatchSpec
	if err := op.DecodeValue(&spec); err != nil {
		return withError(op, harness.Fail, err.Error())
	}
	if c.session == nil || c.session.spec.Session != spec.Session {
		c.closeWatch()
		c.session = &sessionState{spec: spec}
	}
	s := c.session
	var v WatchValue
	if s.ch == nil {
		from, err := c.open(ctx, s)
		if err != nil {
			return withError(op, harness.Fail, "watch: "+err.Error())
		}
		v.From = &from
	}
	v.Watch = s.watches - 1
	window := c.opts.Window
	if deadline, ok := ctx.Deadline(); ok {
		window = min(window, time.Until(deadline)-margin)
	}
	if s.spec.RequestProgress {
		requestProgress(ctx, s.cli, s.onStream)
	}
	timer := time.NewTimer(max(window, 0))
	defer timer.Stop()
	for v.Error == "" {
		select {
		case <-timer.C:
			return watched(op, v)
		case <-ctx.Done():
			return watched(op, v)
		case resp, ok := <-s.ch:
			if !ok {
				v.Error = "watch channel closed"
				break
			}
			r := toResponse(resp, c.opts.Prefix)
			v.Responses = append(v.Responses, r)
			s.advance(r)
			if r.Error != "" {
				v.Error = r.Error
			}
		}
	}
	c.closeWatch()
	return watched(op, v)
}

// margin is kept between the end of a watch window and the op's
// deadline, so that a watch completes rather than running out of time.
const margin = 100 * time.Millisecond

// advance moves the resume revision past what r vouches for.
func (s *sessionState) advance(r Response) {
	switch {
	case r.CompactRevision > 0:
		s.next = max(s.next, r.CompactRevision)
	case r.Created && s.from == 0:
		// A watch of "now" covers what comes after the node's revision.
		s.next = max(s.next, r.Revision+1)
	default:
		if rev := r.vouched(); rev > 0 {
			s.next = max(s.next, rev+1)
		}
	}
}

// watched completes a watch op: ok if the stream gave anything besides
// its creation and cancellation, or broke not at all; fail, value kept,
// if it broke having given nothing else.
func watched(op harness.Op, v WatchValue) harness.Op {
	t := harness.OK
	if v.Error != "" {
		t = harness.Fail
		for _, r := range v.Responses {
			if len(r.Events) > 0 || r.Progress {
				t = harness.OK
			}
		}
	}
	done := completed(op, t, v)
	if t == harness.Fail {
		done.Error = "watch: " + v.Error
	}
	return done
}

// open opens the session's next watch and returns the revision it asked
// for: the spec's start for the first, the resume revision after.
func (c *Client) open(ctx context.Context, s *sessionState) (int64, error) {
	cli := c.cli
	if s.spec.Failover && c.node != harness.FailoverNode {
		var err error
		if cli, err = c.failover(ctx); err != nil {
			return 0, err
		}
	}
	from := s.next
	if from == 0 {
		var err error
		if from, err = c.startRevision(ctx, cli, s.spec); err != nil {
			return 0, err
		}
	}
	id := fmt.Sprintf("%s-%d-%d", c.node, s.spec.Session, s.watches)
	requireLeader := s.spec.RequireLeader
	onStream := func(ctx context.Context) context.Context {
		ctx = metadata.AppendToOutgoingContext(ctx, streamKey, id)
		if requireLeader {
			ctx = clientv3.WithRequireLeader(ctx)
		}
		return ctx
	}
	s.watches++
	s.from, s.next = from, max(s.next, from)
	ch, stop, err := openWatch(ctx, c.life, cli, onStream, c.watchedKey(s.spec), c.watchOptions(s.spec, from)...)
	if err != nil {
		return from, err
	}
	s.ch, s.stop, s.cli, s.onStream = ch, stop, cli, onStream
	return from, nil
}

// openWatch opens a watch that lives as long as life, on the gRPC
// stream onStream names. clientv3's Watch returns only once the server
// has created the watch, which a node that cannot be reached never
// does: the wait is bounded by ctx, and a watch not created by then is
// cancelled.
func openWatch(ctx, life context.Context, cli *clientv3.Client, onStream func(context.Context) context.Context, key string, opts ...clientv3.OpOption) (clientv3.WatchChan, context.CancelFunc, error) {
	wctx, stop := context.WithCancel(onStream(life))
	opened := make(chan clientv3.WatchChan, 1)
	go func() { opened <- cli.Watch(wctx, key, opts...) }()
	select {
	case ch := <-opened:
		return ch, stop, nil
	case <-ctx.Done():
		stop()
		<-opened
		return nil, nil, fmt.Errorf("the watch was not created before the op's deadline: %w", ctx.Err())
	}
}

// requestProgressWait bounds the hand-over of a progress request to the
// watch's stream, which is busy while it reconnects.
const requestProgressWait = 100 * time.Millisecond

// requestProgress asks the stream onStream names for a progress
// notification, if it takes the request within ctx and
// requestProgressWait. A request not taken only means no notification
// comes.
func requestProgress(ctx context.Context, cli *clientv3.Client, onStream func(context.Context) context.Context) {
	rctx, cancel := context.WithTimeout(onStream(ctx), requestProgressWait)
	defer cancel()
	_ = cli.RequestProgress(rctx)
}

// startRevision is where a session's first watch starts.
func (c *Client) startRevision(ctx context.Context, cli *clientv3.Client, spec WatchSpec) (int64, error) {
	switch spec.Start {
	case StartFirst:
		return c.opts.StartRevision, nil
	case StartNow:
		return 0, nil
	}
	// The serving node's own revision: serializable, so a node cut off
	// from the leader answers too.
	resp, err := cli.Get(ctx, c.opts.Prefix, clientv3.WithPrefix(), clientv3.WithCountOnly(), clientv3.WithSerializable())
	if err != nil {
		return 0, fmt.Errorf("read the revision to start from: %w", err)
	}
	if spec.Start == StartFuture {
		return resp.Header.Revision + spec.Offset, nil
	}
	return max(resp.Header.Revision-spec.Offset, 1), nil
}

// watchedKey is the first key the spec watches.
func (c *Client) watchedKey(spec WatchSpec) string {
	if spec.Prefix {
		return c.opts.Prefix
	}
	return c.key(spec.Key)
}

// watchOptions are the clientv3 options of a watch of spec from rev.
func (c *Client) watchOptions(spec WatchSpec, rev int64) []clientv3.OpOption {
	opts := []clientv3.OpOption{clientv3.WithRev(rev), clientv3.WithCreatedNotify()}
	switch {
	case spec.Prefix:
		opts = append(opts, clientv3.WithPrefix())
	case spec.End != "":
		opts = append(opts, clientv3.WithRange(c.key(spec.End)))
	}
	if spec.PrevKV {
		opts = append(opts, clientv3.WithPrevKV())
	}
	switch spec.Filter {
	case FilterNoPut:
		opts = append(opts, clientv3.WithFilterPut())
	case FilterNoDelete:
		opts = append(opts, clientv3.WithFilterDelete())
	}
	if spec.ProgressNotify {
		opts = append(opts, clientv3.WithProgressNotify())
	}
	return opts
}

// failover returns the client given every member's endpoint, opening it
// on first use from the membership the pinned node knows.
func (c *Client) failover(ctx context.Context) (*clientv3.Client, error) {
	if c.everyone != nil {
		return c.everyone, nil
	}
	resp, err := c.cli.MemberList(ctx, clientv3.WithSerializable())
	if err != nil {
		return nil, fmt.Errorf("list the members for a failover watch: %w", err)
	}
	var eps []string
	for _, m := range resp.Members {
		eps = append(eps, m.ClientURLs...)
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("list the members for a failover watch: no member has a client URL (%d members)", len(resp.Members))
	}
	cli, err := c.opts.Dial(ctx, eps)
	if err != nil {
		return nil, fmt.Errorf("open a failover watch client on %d endpoints: %w", len(eps), err)
	}
	c.everyone = cli
	return cli, nil
}

// closeWatch cancels the session's open watch, if any.
func (c *Client) closeWatch() {
	if s := c.session; s != nil && s.stop != nil {
		s.stop()
		s.ch, s.stop = nil, nil
	}
}
