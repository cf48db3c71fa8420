package nemesis

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strconv"

	"github.com/faultline/faultline/harness"
)

// The admin kinds: etcd's maintenance calls as faults, each a point in
// time whose op's value says what it did.

// maintainerOf returns c's maintenance powers, or a refusal.
func maintainerOf(c harness.Cluster) (harness.Maintainer, error) {
	mt, ok := c.(harness.Maintainer)
	if !ok {
		return nil, refuse("this cluster takes no maintenance calls (it is no harness.Maintainer)")
	}
	return mt, nil
}

// AdminEffect is the completion value of an admin op.
type AdminEffect struct {
	// Node is the node the call went through (compact, snapshot) or the
	// first of Nodes (defrag).
	Node  string   `json:"node,omitempty"`
	Nodes []string `json:"nodes,omitempty"`
	// Revision is the revision compacted at, or a snapshot's.
	Revision int64 `json:"revision,omitempty"`
	// From and To are a leadership transfer's old and new leader.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Bytes is a snapshot's size.
	Bytes int64 `json:"bytes,omitempty"`
}

// compactValue is the value of a scheduled compact: the node choice and
// the largest lag behind the current revision.
type compactValue struct {
	faultValue
	Lag int `json:"lag"`
}

// compactFault compacts at a recent revision through one target node.
type compactFault struct{}

func (compactFault) draw(base faultValue, opts Options) any {
	lag, _ := strconv.Atoi(opts.option("compact-lag"))
	return compactValue{faultValue: base, Lag: lag}
}

func (compactFault) check(raw json.RawMessage, names []string) error {
	var v compactValue
	if err := checkTargeted(raw, &v, &v.faultValue, names); err != nil {
		return err
	}
	if v.Lag < 0 || v.Lag > 100000 {
		return fmt.Errorf("lag %d is not 0 to 100000", v.Lag)
	}
	return nil
}

func (compactFault) start(ctx context.Context, _ *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	mt, err := maintainerOf(c)
	if err != nil {
		return nil, err
	}
	var v compactValue
	if err := op.DecodeValue(&v); err != nil {
		return nil, refusal{err}
	}
	nodes, err := chooseNodes(ctx, c, v.faultValue)
	if err != nil {
		return nil, err
	}
	n, _ := harness.NodeByName(c.Nodes(), nodes[0])
	lag := int64(0)
	if v.Lag > 0 {
		lag = rand.New(rand.NewSource(v.Seed)).Int63n(int64(v.Lag) + 1)
	}
	// Compact takes a revision of 0 or less as that many behind the
	// current one.
	rev, err := mt.Compact(ctx, n, -lag)
	return AdminEffect{Node: n.Name, Revision: rev}, err
}

func (compactFault) stop(context.Context, *Nemesis, harness.Cluster, harness.Op) (any, error) {
	return nil, refuse("compact has no stop")
}

// defragFault defragments the target nodes' backends, one after another.
type defragFault struct{}

func (defragFault) draw(base faultValue, _ Options) any { return base }

func (defragFault) check(raw json.RawMessage, names []string) error {
	_, err := targetedValue(raw, names)
	return err
}

func (defragFault) start(ctx context.Context, _ *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	mt, err := maintainerOf(c)
	if err != nil {
		return nil, err
	}
	nodes, err := targetsOf(ctx, c, op)
	if err != nil {
		return nil, err
	}
	effect := AdminEffect{Nodes: nodes}
	for _, name := range nodes {
		n, _ := harness.NodeByName(c.Nodes(), name)
		if err := mt.Defragment(ctx, n); err != nil {
			return effect, err
		}
	}
	return effect, nil
}

func (defragFault) stop(context.Context, *Nemesis, harness.Cluster, harness.Op) (any, error) {
	return nil, refuse("defrag has no stop")
}

// leaderTransferFault moves the leadership to a member drawn by the seed
// among those that do not lead.
type leaderTransferFault struct{}

func (leaderTransferFault) draw(base faultValue, _ Options) any { return base }

func (leaderTransferFault) check(raw json.RawMessage, names []string) error {
	var v faultValue
	if err := decodeStrict(raw, &v); err != nil {
		return err
	}
	for _, n := range v.Nodes {
		if !slices.Contains(names, n) {
			return fmt.Errorf("node %q is not one of n1..n%d", n, len(names))
		}
	}
	return nil
}

func (leaderTransferFault) start(ctx context.Context, _ *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	mt, err := maintainerOf(c)
	if err != nil {
		return nil, err
	}
	var v faultValue
	if err := op.DecodeValue(&v); err != nil {
		return nil, refusal{err}
	}
	leader, err := c.Leader(ctx)
	if err != nil {
		return nil, fmt.Errorf("find leader: %w", err)
	}
	var others []string
	for _, n := range c.Nodes() {
		if n.Name != leader.Name {
			others = append(others, n.Name)
		}
	}
	to := ""
	switch {
	case len(v.Nodes) > 0:
		to = v.Nodes[0]
	case len(others) > 0:
		to = others[rand.New(rand.NewSource(v.Seed)).Intn(len(others))]
	default:
		return nil, refuse("no other member to move the leadership to")
	}
	n, _ := harness.NodeByName(c.Nodes(), to)
	from, err := mt.MoveLeader(ctx, n)
	return AdminEffect{From: from, To: to}, err
}

func (leaderTransferFault) stop(context.Context, *Nemesis, harness.Cluster, harness.Op) (any, error) {
	return nil, refuse("leader-transfer has no stop")
}

// snapshotFault streams a snapshot from one target node.
type snapshotFault struct{}

func (snapshotFault) draw(base faultValue, _ Options) any { return base }

func (snapshotFault) check(raw json.RawMessage, names []string) error {
	_, err := targetedValue(raw, names)
	return err
}

func (snapshotFault) start(ctx context.Context, _ *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	mt, err := maintainerOf(c)
	if err != nil {
		return nil, err
	}
	nodes, err := targetsOf(ctx, c, op)
	if err != nil {
		return nil, err
	}
	n, _ := harness.NodeByName(c.Nodes(), nodes[0])
	size, rev, err := mt.Snapshot(ctx, n)
	return AdminEffect{Node: n.Name, Revision: rev, Bytes: size}, err
}

func (snapshotFault) stop(context.Context, *Nemesis, harness.Cluster, harness.Op) (any, error) {
	return nil, refuse("snapshot has no stop")
}
