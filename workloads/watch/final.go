package watch

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"

	"github.com/faultline/faultline/harness"
)

// finalAttempts is how many watches in a row a final watch opens
// without getting any further before it gives up.
const finalAttempts = 3

// progressEvery is how often a final page asks for a progress
// notification, which ends the page if its end is not a revision of the
// prefix.
const progressEvery = 500 * time.Millisecond

// finalWatch reads the prefix's revision with a linearizable read, then
// replays the prefix's history from the start revision up to it, page by
// page: a watch from each page's first revision that ends once it has
// delivered its FinalPage revisions, each bounded by FinalTimeout. A page
// cancelled as compacted is followed by one from the compact revision.
// It completes ok with Complete false when it could not get there; fail
// when the read failed.
func (c *Client) finalWatch(ctx context.Context, op harness.Op) harness.Op {
	rctx, cancel := context.WithTimeout(ctx, c.opts.FinalTimeout)
	resp, err := c.cli.Get(rctx, c.opts.Prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	cancel()
	if err != nil {
		return withError(op, harness.Fail, fmt.Sprintf("final read of %s: %v", c.opts.Prefix, err))
	}
	v := FinalValue{Target: resp.Header.Revision}
	from, stuck := c.opts.StartRevision, 0
	for from <= v.Target && v.Error == "" {
		end := min(from+c.opts.FinalPage-1, v.Target)
		page, next, err := c.page(ctx, from, end)
		v.Pages = append(v.Pages, page)
		switch {
		case err == nil:
			from, stuck = next, 0
		case next > from:
			from, stuck = next, 1
		default:
			stuck++
		}
		if err != nil && (stuck >= finalAttempts || ctx.Err() != nil) {
			v.Error = err.Error()
		}
	}
	v.Complete = v.Error == ""
	return completed(op, harness.OK, v)
}

// page watches the prefix from from until it has delivered everything up
// to end, and returns the revision to go on from. On error, next is past
// what it did deliver (or from).
func (c *Client) page(ctx context.Context, from, end int64) (FinalPage, int64, error) {
	p := FinalPage{From: from}
	pctx, cancel := context.WithTimeout(ctx, c.opts.FinalTimeout)
	defer cancel()
	id := fmt.Sprintf("final-%s-%d", c.node, from)
	onStream := func(ctx context.Context) context.Context {
		return metadata.AppendToOutgoingContext(clientv3.WithRequireLeader(ctx), streamKey, id)
	}
	next := from
	fail := func(err error) (FinalPage, int64, error) {
		p.Error = err.Error()
		return p, next, err
	}
	ch, stop, err := openWatch(pctx, pctx, c.cli, onStream, c.opts.Prefix, clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithCreatedNotify())
	if err != nil {
		return fail(fmt.Errorf("page from revision %d to %d: %w", from, end, err))
	}
	defer stop()
	ticker := time.NewTicker(progressEvery)
	defer ticker.Stop()
	for {
		select {
		case <-pctx.Done():
			return fail(fmt.Errorf("page from revision %d to %d: nothing past revision %d within %v: %w", from, end, next-1, c.opts.FinalTimeout, pctx.Err()))
		case <-ticker.C:
			requestProgress(pctx, c.cli, onStream)
		case resp, ok := <-ch:
			if !ok {
				return fail(fmt.Errorf("page from revision %d to %d: the watch closed after revision %d", from, end, next-1))
			}
			r := toResponse(resp, c.opts.Prefix)
			p.Responses = append(p.Responses, r)
			if r.CompactRevision > 0 {
				// Everything below is gone: the replay goes on from there.
				return p, max(r.CompactRevision, next), nil
			}
			if r.Error != "" {
				return fail(fmt.Errorf("page from revision %d to %d, after revision %d: %w", from, end, next-1, errors.New(r.Error)))
			}
			if rev := r.vouched(); rev > 0 {
				next = max(next, rev+1)
			}
			if next > end {
				return p, next, nil
			}
		}
	}
}
