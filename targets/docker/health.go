package docker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
)

// probeTimeout bounds each health or status request to one node. A
// healthy node on this network answers in milliseconds; a second is far
// beyond that and still short next to an election timeout.
const probeTimeout = time.Second

// healthKey is the key WaitHealthy reads. Reading a key needs no write,
// so the check leaves the workload's keyspace and revisions untouched.
const healthKey = "faultline/health"

// WaitHealthy waits until every node serves a linearizable read, which
// needs a leader and a quorum behind it. It gives up after timeout (or
// when ctx is done) with an error that names each unhealthy node's last
// error and holds the last 40 lines of every node's log.
func (c *Cluster) WaitHealthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pending := c.Nodes()
	lastErr := map[string]error{}
	var mu sync.Mutex
	for {
		var wg sync.WaitGroup
		for _, n := range pending {
			wg.Go(func() {
				err := c.probe(ctx, n)
				mu.Lock()
				lastErr[n.Name] = err
				mu.Unlock()
			})
		}
		wg.Wait()
		var still []harness.Node
		for _, n := range pending {
			if lastErr[n.Name] != nil {
				still = append(still, n)
			}
		}
		if pending = still; len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			var why []string
			for _, n := range pending {
				why = append(why, fmt.Sprintf("%s: %v", n.Name, lastErr[n.Name]))
			}
			return fmt.Errorf("cluster %s not healthy after %v: %s\n%s",
				c.network, timeout, strings.Join(why, "; "), c.logTails(ctx, 40))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// probe performs one linearizable read on n through a fresh pinned
// client. A fresh client has no reconnect backoff left over from the
// node's downtime.
func (c *Cluster) probe(ctx context.Context, n harness.Node) error {
	return c.withClient(ctx, n, func(ctx context.Context, cli *clientv3.Client) error {
		_, err := cli.Get(ctx, healthKey)
		return err
	})
}

// withClient runs f with a client pinned to n and a context bounded by
// probeTimeout.
func (c *Cluster) withClient(ctx context.Context, n harness.Node, f func(context.Context, *clientv3.Client) error) error {
	cli, err := targets.OpenClient(ctx, []string{n.Endpoint}, targets.ClientOpts{DialTimeout: probeTimeout})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	return f(ctx, cli)
}

// nodeStatus is one node's view of the raft group.
type nodeStatus struct {
	node     harness.Node
	memberID uint64
	leaderID uint64
	term     uint64
}

// Leader returns the node that leads, as the nodes report it. Each node
// is asked for its status (within 1 s); the leader a majority of all
// nodes agrees on wins. Without such a majority (during an election, or
// with a partition) the report with the highest raft term wins, since an
// older term's leader has been superseded. It is an error when no node
// reports a leader.
func (c *Cluster) Leader(ctx context.Context) (harness.Node, error) {
	nodes := c.Nodes()
	statuses := make([]*nodeStatus, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			errs[i] = c.withClient(ctx, n, func(ctx context.Context, cli *clientv3.Client) error {
				resp, err := cli.Status(ctx, n.Endpoint)
				if err != nil {
					return err
				}
				statuses[i] = &nodeStatus{node: n, memberID: resp.Header.MemberId, leaderID: resp.Leader, term: resp.RaftTerm}
				return nil
			})
		})
	}
	wg.Wait()
	var answered []nodeStatus
	for _, s := range statuses {
		if s != nil {
			answered = append(answered, *s)
		}
	}
	leaderID, ok := electLeader(answered, len(nodes))
	if !ok {
		return harness.Node{}, fmt.Errorf("leader: no node reports one: %w", errors.Join(errs...))
	}
	for _, s := range answered {
		if s.memberID == leaderID {
			return s.node, nil
		}
	}
	return c.memberNode(ctx, answered, leaderID)
}

// electLeader picks the leader id from the nodes' reports: the one more
// than half of all n nodes report, else the one reported with the highest
// term (more reports break a tie).
func electLeader(answered []nodeStatus, n int) (uint64, bool) {
	type tally struct {
		votes int
		term  uint64
	}
	tallies := map[uint64]*tally{}
	for _, s := range answered {
		if s.leaderID == 0 {
			continue
		}
		t := tallies[s.leaderID]
		if t == nil {
			t = &tally{}
			tallies[s.leaderID] = t
		}
		t.votes++
		t.term = max(t.term, s.term)
	}
	ids := make([]uint64, 0, len(tallies))
	for id := range tallies {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var best uint64
	for _, id := range ids {
		t := tallies[id]
		if t.votes > n/2 {
			return id, true
		}
		if b := tallies[best]; best == 0 || t.term > b.term || (t.term == b.term && t.votes > b.votes) {
			best = id
		}
	}
	return best, best != 0
}

// memberNode maps a member id to its node when the leader itself did not
// answer: the member list of a node that did names it, and members are
// named after their nodes.
func (c *Cluster) memberNode(ctx context.Context, answered []nodeStatus, id uint64) (harness.Node, error) {
	var name string
	var err error
	for _, s := range answered {
		err = c.withClient(ctx, s.node, func(ctx context.Context, cli *clientv3.Client) error {
			resp, err := cli.MemberList(ctx)
			if err != nil {
				return err
			}
			for _, m := range resp.Members {
				if m.ID == id {
					name = m.Name
				}
			}
			return nil
		})
		if err == nil {
			break
		}
	}
	if n, ok := harness.NodeByName(c.nodes, name); ok {
		return n, nil
	}
	if err != nil {
		return harness.Node{}, fmt.Errorf("leader: member %x: %w", id, err)
	}
	return harness.Node{}, fmt.Errorf("leader: member %x is not a node of this cluster", id)
}
