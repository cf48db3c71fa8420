package docker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
)

// Membership changes go through raft and, in etcd, through its strict
// reconfiguration check, which refuses a change until every voting member
// has been connected for 5 s. A change is retried until memberTimeout; a
// joined member gets joinTimeout to serve its first linearizable read.
const (
	memberRequestTimeout = 5 * time.Second
	memberTimeout        = 30 * time.Second
	joinTimeout          = 30 * time.Second
)

var _ harness.Membership = (*Cluster)(nil)

// errNoRejoin is the error of a membership change on a target that is no
// targets.Rejoiner.
var errNoRejoin = errors.New("the target cannot rejoin a wiped node (it is no targets.Rejoiner)")

// Members lists the raft group's members as the first node that answers
// reports them. A member added but not yet started has no name.
func (c *Cluster) Members(ctx context.Context) ([]harness.Member, error) {
	list, err := c.memberList(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]harness.Member, len(list))
	for i, m := range list {
		out[i] = harness.Member{ID: m.ID, Name: m.Name}
	}
	return out, nil
}

// RemoveMember removes n from the raft group through the other nodes,
// then kills n's DB process (a removed etcd stops itself; kvnode too, but
// neither must linger) and deletes its data directory. It retries the
// removal until memberTimeout, as etcd refuses changes for a while after
// any member reconnected.
func (c *Cluster) RemoveMember(ctx context.Context, n harness.Node) (harness.Member, error) {
	rj, ok := c.cfg.Target.(targets.Rejoiner)
	if !ok {
		return harness.Member{}, fmt.Errorf("remove member %s: %w", n.Name, errNoRejoin)
	}
	n, err := c.node(n)
	if err != nil {
		return harness.Member{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	var removed harness.Member
	err = c.retryMembership(ctx, n, func(ctx context.Context, cli *clientv3.Client, list []*etcdserverpb.Member) error {
		i := slices.IndexFunc(list, func(m *etcdserverpb.Member) bool { return slices.Contains(m.PeerURLs, rj.PeerURL(n)) })
		if i < 0 {
			if removed.ID != 0 {
				return nil // an earlier attempt took effect
			}
			return permanent{fmt.Errorf("%s is not a member", n.Name)}
		}
		removed = harness.Member{ID: list[i].ID, Name: list[i].Name}
		_, err := cli.MemberRemove(ctx, list[i].ID)
		return err
	})
	if err != nil {
		return removed, fmt.Errorf("remove member %s: %w", n.Name, err)
	}
	if err := c.Kill(ctx, n); err != nil {
		return removed, fmt.Errorf("remove member %s: %w", n.Name, err)
	}
	if out, err := c.Exec(ctx, n, "rm", "-rf", rj.DataDir()); err != nil {
		return removed, fmt.Errorf("remove member %s: wipe %s: %w (%s)", n.Name, rj.DataDir(), err, out)
	}
	return removed, nil
}

// AddMember adds the wiped node n to the raft group through the other
// nodes, starts its DB process joining the cluster as it now is (state
// existing, the current members as its initial cluster, which etcd
// requires to include n itself), and waits until n serves a linearizable
// read. A member of n's address that is already in the list (an earlier
// attempt that took effect) is started, not added again.
func (c *Cluster) AddMember(ctx context.Context, n harness.Node) (harness.Member, error) {
	rj, ok := c.cfg.Target.(targets.Rejoiner)
	if !ok {
		return harness.Member{}, fmt.Errorf("add member %s: %w", n.Name, errNoRejoin)
	}
	n, err := c.node(n)
	if err != nil {
		return harness.Member{}, err
	}
	addCtx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	var added harness.Member
	var members []harness.Node
	err = c.retryMembership(addCtx, n, func(ctx context.Context, cli *clientv3.Client, list []*etcdserverpb.Member) error {
		if !slices.ContainsFunc(list, func(m *etcdserverpb.Member) bool { return slices.Contains(m.PeerURLs, rj.PeerURL(n)) }) {
			resp, err := cli.MemberAdd(ctx, []string{rj.PeerURL(n)})
			if err != nil {
				return err
			}
			list = resp.Members
		}
		for _, m := range list {
			if slices.Contains(m.PeerURLs, rj.PeerURL(n)) {
				added = harness.Member{ID: m.ID, Name: n.Name}
			}
		}
		members = c.nodesOf(rj, list)
		return nil
	})
	if err != nil {
		return added, fmt.Errorf("add member %s: %w", n.Name, err)
	}
	if err := c.start(ctx, n, members); err != nil {
		return added, fmt.Errorf("add member %s: %w", n.Name, err)
	}
	joinCtx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	for {
		err := c.probe(joinCtx, n)
		if err == nil {
			return added, nil
		}
		select {
		case <-joinCtx.Done():
			return added, fmt.Errorf("add member %s: started but serves no read after %v: %w\n%s", n.Name, joinTimeout, err, c.logTail(ctx, n, 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// retryMembership calls change with a client of every node but n and the
// current member list, until change succeeds or ctx ends.
func (c *Cluster) retryMembership(ctx context.Context, n harness.Node, change func(context.Context, *clientv3.Client, []*etcdserverpb.Member) error) error {
	var others []string
	for _, o := range c.nodes {
		if o.Name != n.Name {
			others = append(others, o.Endpoint)
		}
	}
	for {
		err := c.withEndpoints(ctx, others, memberRequestTimeout, func(ctx context.Context, cli *clientv3.Client) error {
			list, err := cli.MemberList(ctx)
			if err != nil {
				return err
			}
			return change(ctx, cli, list.Members)
		})
		var p permanent
		if err == nil || errors.As(err, &p) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// permanent marks an error that retrying cannot cure.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// memberList returns the member list as the first node other than skip
// that answers reports it.
func (c *Cluster) memberList(ctx context.Context, skip string) ([]*etcdserverpb.Member, error) {
	var errs []error
	for _, n := range c.nodes {
		if n.Name == skip {
			continue
		}
		var list []*etcdserverpb.Member
		err := c.withClient(ctx, n, func(ctx context.Context, cli *clientv3.Client) error {
			resp, err := cli.MemberList(ctx)
			if err == nil {
				list = resp.Members
			}
			return err
		})
		if err == nil {
			return list, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
	}
	return nil, fmt.Errorf("member list: no node answers: %w", errors.Join(errs...))
}

// nodesOf maps members to the nodes serving their peer URLs.
func (c *Cluster) nodesOf(rj targets.Rejoiner, list []*etcdserverpb.Member) []harness.Node {
	var out []harness.Node
	for _, n := range c.nodes {
		if slices.ContainsFunc(list, func(m *etcdserverpb.Member) bool { return slices.Contains(m.PeerURLs, rj.PeerURL(n)) }) {
			out = append(out, n)
		}
	}
	return out
}

// withEndpoints runs f with a client given endpoints (it fails over
// between them) and a context bounded by timeout.
func (c *Cluster) withEndpoints(ctx context.Context, endpoints []string, timeout time.Duration, f func(context.Context, *clientv3.Client) error) error {
	cli, err := targets.OpenClient(ctx, endpoints, targets.ClientOpts{DialTimeout: probeTimeout})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return f(ctx, cli)
}
