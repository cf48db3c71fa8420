package nemesis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/faultline/faultline/harness"
)

// upgradeFault is the upgrade kind: one step of a rolling upgrade. Each
// target node is stopped as an operator stops it, moved to the build after
// its own in the cluster's list (the last wraps to the first, so with two
// releases the nodes go up and down), and started again on its data. It
// is a point in time: the op completes once the node's process runs again.
type upgradeFault struct{}

// UpgradeEffect is the completion value of an upgrade: the nodes moved and
// the build each left and now runs.
type UpgradeEffect struct {
	Nodes []string          `json:"nodes"`
	From  map[string]string `json:"from"`
	To    map[string]string `json:"to"`
}

func (upgradeFault) draw(base faultValue, _ Options) any { return base }

func (upgradeFault) check(raw json.RawMessage, names []string) error {
	_, err := targetedValue(raw, names)
	return err
}

func (upgradeFault) start(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	up, ok := c.(harness.Upgrader)
	if !ok {
		return nil, refuse("this cluster cannot move nodes between builds (it is no harness.Upgrader)")
	}
	builds := up.Builds()
	if len(builds) < 2 {
		return nil, refuse("the cluster holds one build (%v): give --target-version two releases or more", builds)
	}
	nodes, err := targetsOf(ctx, c, op)
	if err != nil {
		return nil, err
	}
	for _, name := range nodes {
		if why := m.downBecause(name); why != "" {
			return nil, refuse("%s is %s: an upgrade restarts a node that runs", name, why)
		}
	}
	effect := UpgradeEffect{Nodes: nodes, From: map[string]string{}, To: map[string]string{}}
	for _, name := range nodes {
		n, _ := harness.NodeByName(c.Nodes(), name)
		i := slices.Index(builds, n.Version)
		next := builds[(i+1)%len(builds)]
		if err := up.Stop(ctx, n); err != nil {
			return effect, err
		}
		if err := up.SetVersion(n, next); err != nil {
			return effect, err
		}
		effect.From[name], effect.To[name] = n.Version, next
		if err := c.Start(ctx, n); err != nil {
			return effect, fmt.Errorf("start %s on %s: %w", name, next, err)
		}
	}
	return effect, nil
}

func (upgradeFault) stop(context.Context, *Nemesis, harness.Cluster, harness.Op) (any, error) {
	return nil, refuse("upgrade has no stop")
}

// downBecause says why the nemesis keeps node down (killed, paused,
// crashed, removed, corrupted), or "" when it does not.
func (m *Nemesis) downBecause(node string) string {
	switch {
	case m.killed[node]:
		return "killed"
	case m.paused[node]:
		return "paused"
	case m.crashed[node]:
		return "crashed"
	case m.removed[node]:
		return "removed"
	case m.corrupted[node]:
		return "down with damaged files"
	}
	return ""
}
