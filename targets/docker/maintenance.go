package docker

import (
	"context"
	"fmt"
	"io"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
)

var _ harness.Maintainer = (*Cluster)(nil)

// Compact compacts through n, up to revision or, when revision is 0 or
// less, -revision revisions behind n's current revision (at least 1).
func (c *Cluster) Compact(ctx context.Context, n harness.Node, revision int64) (int64, error) {
	var at int64
	err := c.withClient(ctx, n, func(ctx context.Context, cli *clientv3.Client) error {
		at = revision
		if revision <= 0 {
			resp, err := cli.Get(ctx, healthKey)
			if err != nil {
				return fmt.Errorf("current revision: %w", err)
			}
			at = max(1, resp.Header.Revision+revision)
		}
		_, err := cli.Compact(ctx, at)
		return err
	})
	if err != nil {
		return at, fmt.Errorf("compact %s at %d: %w", n.Name, at, err)
	}
	return at, nil
}

// Defragment defragments n's backend.
func (c *Cluster) Defragment(ctx context.Context, n harness.Node) error {
	err := c.withClient(ctx, n, func(ctx context.Context, cli *clientv3.Client) error {
		_, err := cli.Defragment(ctx, n.Endpoint)
		return err
	})
	if err != nil {
		return fmt.Errorf("defragment %s: %w", n.Name, err)
	}
	return nil
}

// MoveLeader transfers leadership to to, through the current leader.
func (c *Cluster) MoveLeader(ctx context.Context, to harness.Node) (string, error) {
	to, err := c.node(to)
	if err != nil {
		return "", err
	}
	leader, err := c.Leader(ctx)
	if err != nil {
		return "", fmt.Errorf("move leader to %s: %w", to.Name, err)
	}
	if leader.Name == to.Name {
		return leader.Name, nil
	}
	var id uint64
	err = c.withClient(ctx, to, func(ctx context.Context, cli *clientv3.Client) error {
		st, err := cli.Status(ctx, to.Endpoint)
		if err != nil {
			return err
		}
		id = st.Header.MemberId
		return nil
	})
	if err != nil {
		return leader.Name, fmt.Errorf("move leader to %s: its member id: %w", to.Name, err)
	}
	err = c.withClient(ctx, leader, func(ctx context.Context, cli *clientv3.Client) error {
		_, err := cli.MoveLeader(ctx, id)
		return err
	})
	if err != nil {
		return leader.Name, fmt.Errorf("move leader from %s to %s: %w", leader.Name, to.Name, err)
	}
	return leader.Name, nil
}

// Snapshot streams a snapshot of n's store to nowhere and returns its size
// and n's revision before it.
func (c *Cluster) Snapshot(ctx context.Context, n harness.Node) (int64, int64, error) {
	var size, rev int64
	err := c.withClient(ctx, n, func(ctx context.Context, cli *clientv3.Client) error {
		st, err := cli.Status(ctx, n.Endpoint)
		if err != nil {
			return err
		}
		rev = st.Header.Revision
		rc, err := cli.Snapshot(ctx)
		if err != nil {
			return err
		}
		defer rc.Close()
		size, err = io.Copy(io.Discard, rc)
		return err
	})
	if err != nil {
		return size, rev, fmt.Errorf("snapshot of %s: %w", n.Name, err)
	}
	return size, rev, nil
}

// HashKV hashes n's key-value store up to revision (0: its current one).
func (c *Cluster) HashKV(ctx context.Context, n harness.Node, revision int64) (harness.HashKV, error) {
	h := harness.HashKV{Node: n.Name}
	err := c.withClient(ctx, n, func(ctx context.Context, cli *clientv3.Client) error {
		resp, err := cli.HashKV(ctx, n.Endpoint, revision)
		if err != nil {
			return err
		}
		h.Revision, h.Current, h.CompactRevision, h.Hash = revision, resp.Header.Revision, resp.CompactRevision, resp.Hash
		if revision == 0 {
			h.Revision = resp.Header.Revision
		}
		return nil
	})
	if err != nil {
		return h, fmt.Errorf("hashkv of %s at %d: %w", n.Name, revision, err)
	}
	return h, nil
}
