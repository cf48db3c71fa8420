package faultline

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
)

// probeKey is the key the recovery probes read. Reading a key needs no
// write, so the probes leave the workload's keyspace and revisions as they
// are.
const probeKey = "/faultline/probe"

// probeClient answers the harness's recovery probes (harness.ProbeF): a
// linearizable Get through a client pinned to one node.
type probeClient struct{ cli *clientv3.Client }

// openProbe opens a probe client pinned to n.
func openProbe(ctx context.Context, n harness.Node) (harness.Client, error) {
	cli, err := targets.OpenClient(ctx, []string{n.Endpoint}, targets.ClientOpts{})
	if err != nil {
		return nil, err
	}
	return probeClient{cli: cli}, nil
}

// Invoke performs a linearizable read: ok when the node served it, fail
// when it did not (a read changes nothing, so its failure is certain).
func (c probeClient) Invoke(ctx context.Context, op harness.Op) harness.Op {
	resp, err := c.cli.Get(ctx, probeKey)
	if err != nil {
		done := op.Completion(harness.Fail)
		done.Error = harness.Shorten(err.Error(), 300)
		return done
	}
	done := op.Completion(harness.OK)
	done.Value = harness.MustValue(map[string]int64{"revision": resp.Header.Revision})
	return done
}

// Close closes the client.
func (c probeClient) Close() error {
	if err := c.cli.Close(); err != nil {
		return fmt.Errorf("close probe client: %w", err)
	}
	return nil
}
