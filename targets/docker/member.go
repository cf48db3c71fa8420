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
	list, err := c.memberList(ctx)
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
	// etcd stops by itself once it learns it was removed: that exit is
	// the harness's doing.
	c.expectStop(n)
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
	if out, err := c.Exec(ctx, n, "sh", "-c", wipeScript(c.cfg.Target.ProcessName(), rj.DataDir())); err != nil {
		return removed, fmt.Errorf("remove member %s: stop and wipe: %w (%s)", n.Name, err, out)
	}
	return removed, nil
}

// wipeScript SIGKILLs the process named process, waits (at most 5 s) until
// it is gone, and deletes dir: one exec instead of four, which matters on
// a busy engine where each exec costs a second.
func wipeScript(process, dir string) string {
	return fmt.Sprintf(`pkill -KILL -x %[1]s; i=0; while pgrep -x %[1]s >/dev/null; do i=$((i+1)); [ $i -lt 100 ] || { echo "%[1]s still runs"; exit 1; }; sleep 0.05; done; rm -rf %[2]s`,
		shellQuote(process), shellQuote(dir))
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
	begin := time.Now()
	addCtx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	var added harness.Member
	var members []harness.Node
	unstarted := false
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
				added, unstarted = harness.Member{ID: m.ID, Name: n.Name}, m.Name == ""
			}
		}
		members = c.nodesOf(rj, list)
		return nil
	})
	if err != nil {
		return added, fmt.Errorf("add member %s: %w", n.Name, err)
	}
	c.logf("member %s added as %x in %v; starting it", n.Name, added.ID, time.Since(begin).Round(time.Millisecond))
	if unstarted {
		// A member that never started must start empty: whatever is on
		// disk belongs to the member that was removed (a removal cut
		// short before its wipe) or to a start that never got through.
		if out, err := c.Exec(ctx, n, "sh", "-c", wipeScript(c.cfg.Target.ProcessName(), rj.DataDir())); err != nil {
			return added, fmt.Errorf("add member %s: wipe: %w (%s)", n.Name, err, out)
		}
	}
	if _, err := c.start(ctx, n, startOpts{members: members}); err != nil {
		return added, fmt.Errorf("add member %s: %w", n.Name, err)
	}
	joinCtx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	for {
		err := c.probe(joinCtx, n)
		if err == nil {
			err = c.published(joinCtx, n, added.ID)
		}
		if err == nil {
			c.logf("member %s serves %v after the add began", n.Name, time.Since(begin).Round(time.Millisecond))
			return added, nil
		}
		select {
		case <-joinCtx.Done():
			return added, fmt.Errorf("add member %s: started but not serving and listed as started within %v of the add: %w\n%s", n.Name, time.Since(begin).Round(time.Millisecond), err, c.logTail(context.WithoutCancel(ctx), n, 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// published reports whether the member list, as n itself sees it, names
// member id: a member publishes its name through raft once it has
// started, and until then the next membership change would count on a
// voter that may not be there. etcd publishes before it serves; kvnode
// may serve first.
func (c *Cluster) published(ctx context.Context, n harness.Node, id uint64) error {
	return c.withClient(ctx, n, func(ctx context.Context, cli *clientv3.Client) error {
		resp, err := cli.MemberList(ctx)
		if err != nil {
			return err
		}
		for _, m := range resp.Members {
			if m.ID == id && m.Name != "" {
				return nil
			}
		}
		return fmt.Errorf("member %x is not listed as started yet", id)
	})
}

// retryMembership calls change with a client pinned to a node other than
// n and that node's member list, trying one node after the other, until
// change succeeds, fails for good, or ctx ends. Each node judges a change
// by its own connections (etcd refuses one as "unhealthy" until every
// peer has been connected to it for 5 s), so a node that joined a moment
// ago refuses what an older one accepts: the next node is asked at once.
func (c *Cluster) retryMembership(ctx context.Context, n harness.Node, change func(context.Context, *clientv3.Client, []*etcdserverpb.Member) error) error {
	var errs []error
	for {
		for _, o := range c.nodes {
			if o.Name == n.Name {
				continue
			}
			err := c.withEndpoints(ctx, []string{o.Endpoint}, memberRequestTimeout, func(ctx context.Context, cli *clientv3.Client) error {
				// A node that is down must not hold up the others for
				// long: the list is a read and gets the probe's bound.
				listCtx, cancel := context.WithTimeout(ctx, probeTimeout)
				list, err := cli.MemberList(listCtx)
				cancel()
				if err != nil {
					return err
				}
				return change(ctx, cli, list.Members)
			})
			var p permanent
			if err == nil || errors.As(err, &p) {
				return err
			}
			c.logf("membership change of %s via %s: %v (retrying)", n.Name, o.Name, err)
			errs = append(errs[max(0, len(errs)-len(c.nodes)+2):], fmt.Errorf("via %s: %w", o.Name, err))
		}
		select {
		case <-ctx.Done():
			return errors.Join(errs...)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// permanent marks an error that retrying cannot cure.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// memberList returns the member list as the first node that answers
// reports it.
func (c *Cluster) memberList(ctx context.Context) ([]*etcdserverpb.Member, error) {
	var errs []error
	for _, n := range c.nodes {
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
