package kvnode_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// nextResponse waits for the next response on a watch channel.
func nextResponse(t *testing.T, wch clientv3.WatchChan, timeout time.Duration) clientv3.WatchResponse {
	t.Helper()
	select {
	case resp, ok := <-wch:
		require.True(t, ok, "the watch channel closed")
		return resp
	case <-time.After(timeout):
		require.FailNow(t, "no watch response", "waited %v", timeout)
		return clientv3.WatchResponse{}
	}
}

// watchCreated opens a watch and waits until the server has created it.
func watchCreated(t *testing.T, cli *clientv3.Client, ctx context.Context, key string, opts ...clientv3.OpOption) clientv3.WatchChan {
	t.Helper()
	wch := cli.Watch(ctx, key, append(opts, clientv3.WithCreatedNotify())...)
	resp := nextResponse(t, wch, 10*time.Second)
	require.True(t, resp.Created, "the first response is the created one")
	require.NoError(t, resp.Err())
	return wch
}

// collectEvents reads responses until n events arrived, checking the
// promises every response keeps: no error, and a header revision not below
// its events.
func collectEvents(t *testing.T, wch clientv3.WatchChan, n int) []*clientv3.Event {
	t.Helper()
	var evs []*clientv3.Event
	for len(evs) < n {
		resp := nextResponse(t, wch, 10*time.Second)
		require.NoError(t, resp.Err())
		for _, ev := range resp.Events {
			require.LessOrEqual(t, ev.Kv.ModRevision, resp.Header.Revision, "an event above its header's revision")
		}
		evs = append(evs, resp.Events...)
	}
	require.Len(t, evs, n, "more events than expected")
	return evs
}

// noResponse asserts that nothing arrives on the channel for d.
func noResponse(t *testing.T, wch clientv3.WatchChan, d time.Duration) {
	t.Helper()
	select {
	case resp, ok := <-wch:
		require.Failf(t, "unexpected watch response", "open %v, events %v, err %v", ok, describe(resp.Events), resp.Err())
	case <-time.After(d):
	}
}

// describe renders events as "PUT k=v@rev" / "DELETE k@rev".
func describe(evs []*clientv3.Event) []string {
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		if ev.Type == mvccpb.DELETE {
			out = append(out, fmt.Sprintf("DELETE %s@%d", ev.Kv.Key, ev.Kv.ModRevision))
			continue
		}
		out = append(out, fmt.Sprintf("PUT %s=%s@%d", ev.Kv.Key, ev.Kv.Value, ev.Kv.ModRevision))
	}
	return out
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// follower returns a running node other than leader.
func (c *testCluster) follower(leader int) int {
	for i, srv := range c.servers {
		if i != leader && srv != nil {
			return i
		}
	}
	c.t.Fatal("no running follower")
	return -1
}
