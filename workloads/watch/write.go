package watch

import (
	"context"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/register"
)

func (c *Client) put(ctx context.Context, op harness.Op) harness.Op {
	var v int
	if err := op.DecodeValue(&v); err != nil {
		return withError(op, harness.Fail, err.Error())
	}
	resp, err := c.cli.Put(ctx, c.key(op.Key), strconv.Itoa(v))
	if err != nil {
		return withError(op, register.Outcome(true, err), fmt.Sprintf("put %s: %v", op.Key, err))
	}
	return acknowledged(op, WriteResult{Revision: resp.Header.Revision})
}

// acknowledged completes a write ok with res, its header's revision
// recorded on the op too, for the checkers that read every op's (every
// member must reach the highest acknowledged revision).
func acknowledged(op harness.Op, res WriteResult) harness.Op {
	done := completed(op, harness.OK, res)
	done.Revision = res.Revision
	return done
}

func (c *Client) delete(ctx context.Context, op harness.Op) harness.Op {
	resp, err := c.cli.Delete(ctx, c.key(op.Key))
	if err != nil {
		return withError(op, register.Outcome(true, err), fmt.Sprintf("delete %s: %v", op.Key, err))
	}
	if resp.Deleted > 0 {
		c.deleted(resp.Header.Revision)
	}
	return acknowledged(op, WriteResult{Revision: resp.Header.Revision, Deleted: map[string]int64{op.Key: resp.Deleted}})
}

// txn applies every mutation in one unconditional Txn.
func (c *Client) txn(ctx context.Context, op harness.Op) harness.Op {
	var ms []Mutation
	if err := op.DecodeValue(&ms); err != nil {
		return withError(op, harness.Fail, err.Error())
	}
	ops := make([]clientv3.Op, len(ms))
	for i, m := range ms {
		switch m.Type {
		case TypePut:
			ops[i] = clientv3.OpPut(c.key(m.Key), strconv.Itoa(m.Value))
		case TypeDelete:
			ops[i] = clientv3.OpDelete(c.key(m.Key))
		default:
			return withError(op, harness.Fail, fmt.Sprintf("txn: unknown mutation type %q", m.Type))
		}
	}
	resp, err := c.cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return withError(op, register.Outcome(true, err), fmt.Sprintf("txn: %v", err))
	}
	res := WriteResult{Revision: resp.Header.Revision}
	for i, m := range ms {
		if m.Type != TypeDelete || i >= len(resp.Responses) {
			continue
		}
		if res.Deleted == nil {
			res.Deleted = map[string]int64{}
		}
		res.Deleted[m.Key] = resp.Responses[i].GetResponseDeleteRange().GetDeleted()
	}
	for _, n := range res.Deleted {
		if n > 0 {
			c.deleted(res.Revision) // once: the txn is one revision
			break
		}
	}
	return acknowledged(op, res)
}

// deleted remembers rev as a revision at which the writer deleted a key,
// unless it is not above the last one (a store whose revision went back:
// the list stays ordered).
func (c *Client) deleted(rev int64) {
	if n := len(c.deletes); n > 0 && c.deletes[n-1] >= rev {
		return
	}
	if len(c.deletes) == maxDeletes {
		c.deletes = c.deletes[1:]
	}
	c.deletes = append(c.deletes, rev)
}

// compact compacts CompactKeep revisions behind the store's current
// revision, or with CompactAtDelete on the writer's newest delete at or
// below that, when it has one above its last compaction. An info
// completion still names the revision it asked for.
func (c *Client) compact(ctx context.Context, op harness.Op) harness.Op {
	resp, err := c.cli.Get(ctx, c.opts.Prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return withError(op, harness.Fail, fmt.Sprintf("compact: read the revision: %v", err))
	}
	rev := resp.Header.Revision - c.opts.CompactKeep
	if rev < 2 {
		return withError(op, harness.Fail, fmt.Sprintf("compact: revision %d leaves nothing to compact", resp.Header.Revision))
	}
	if c.opts.CompactAt == CompactAtDelete {
		rev = c.onDelete(rev)
	}
	if _, err := c.cli.Compact(ctx, rev); err != nil {
		done := completed(op, register.Outcome(true, err), CompactValue{Revision: rev})
		done.Error = fmt.Sprintf("compact %d: %v", rev, err)
		return done
	}
	c.compacted = max(c.compacted, rev)
	return completed(op, harness.OK, CompactValue{Revision: rev})
}

// onDelete returns the newest remembered delete revision at or below
// limit and above the writer's last compaction, or limit if none is.
func (c *Client) onDelete(limit int64) int64 {
	for i := len(c.deletes) - 1; i >= 0; i-- {
		switch d := c.deletes[i]; {
		case d <= c.compacted:
			return limit
		case d <= limit:
			return d
		}
	}
	return limit
}
