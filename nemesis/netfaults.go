package nemesis

import (
	"context"
	"fmt"
	"math/rand"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// startPartition resolves the step's layout against the cluster and cuts
// the network accordingly. Crashed machines get the partition when they
// reboot.
func (m *Nemesis) startPartition(ctx context.Context, c harness.Cluster, op harness.Op) (any, error) {
	var v partitionValue
	if err := op.DecodeValue(&v); err != nil {
		return nil, refusal{err}
	}
	leader := ""
	if v.Layout == "leader" || v.Layout == "minority-leader" {
		l, err := c.Leader(ctx)
		if err != nil {
			return nil, fmt.Errorf("find leader: %w", err)
		}
		leader = l.Name
	}
	p, err := Resolve(v.Layout, nodeNames(c.Nodes()), leader, rand.New(rand.NewSource(v.Seed)))
	if err != nil {
		return nil, refusal{err}
	}
	m.net.grudge = p.Grudge
	return p, m.net.apply(ctx, c, c.Nodes(), m.crashed)
}

// startNetworkFault starts a loss, bandwidth or delay fault on the step's
// target nodes. Loss drops packets to and from the targets in each
// receiver's chain; bandwidth and delay replace the targets' root qdisc,
// so they shape what the targets send.
func (m *Nemesis) startNetworkFault(ctx context.Context, c harness.Cluster, op harness.Op) (any, error) {
	var v faultValue
	if err := op.DecodeValue(&v); err != nil {
		return nil, refusal{err}
	}
	var qdisc string
	effect := Effect{}
	switch op.F {
	case fault.StartLoss:
		if !(v.Probability >= 0 && v.Probability <= 1) {
			return nil, refuse("loss probability %v is not in [0, 1]", v.Probability)
		}
		effect.Probability = v.Probability
	case fault.StartBandwidth:
		rate, err := fault.ParseRate(v.Rate)
		if err != nil {
			return nil, refusal{err}
		}
		qdisc, effect.Rate = tbfQdisc(rate), v.Rate
	case fault.StartDelay:
		d, err := time.ParseDuration(v.Delay)
		if err != nil || d <= 0 || d > 10*time.Second {
			return nil, refuse("delay %q is no positive duration", v.Delay)
		}
		qdisc, effect.Delay = netemQdisc(d), v.Delay
	}
	nodes, err := chooseNodes(ctx, c, v)
	if err != nil {
		return nil, err
	}
	effect.Nodes = nodes
	if op.F == fault.StartLoss {
		m.net.lossNodes, m.net.lossProbability = nodes, v.Probability
		return effect, m.net.apply(ctx, c, c.Nodes(), m.crashed)
	}
	for _, n := range nodes {
		m.net.shaping[n] = qdisc
	}
	return effect, m.net.apply(ctx, c, namedNodes(c, nodes), m.crashed)
}

// stopNetworkFault undoes the network fault that f stops, on every node
// it was in force on, and reports those nodes.
func (m *Nemesis) stopNetworkFault(ctx context.Context, c harness.Cluster, f string) (any, error) {
	touched := c.Nodes()
	var hit []string
	switch f {
	case fault.StopPartition:
		hit = sortedKeys(grudgeHolders(m.net.grudge))
		m.net.grudge = nil
	case fault.StopLoss:
		hit = m.net.lossNodes
		m.net.lossNodes, m.net.lossProbability = nil, 0
	case fault.StopBandwidth, fault.StopDelay:
		for n := range m.net.shaping {
			hit = append(hit, n)
		}
		hit = sorted(hit)
		m.net.shaping = map[string]string{}
		touched = namedNodes(c, hit)
	}
	return Effect{Nodes: hit}, m.net.apply(ctx, c, touched, m.crashed)
}

// grudgeHolders are the nodes that drop someone's packets.
func grudgeHolders(g Grudge) map[string]bool {
	out := map[string]bool{}
	for n, drops := range g {
		if len(drops) > 0 {
			out[n] = true
		}
	}
	return out
}

// namedNodes returns the nodes of c with the given names.
func namedNodes(c harness.Cluster, names []string) []harness.Node {
	var out []harness.Node
	for _, n := range c.Nodes() {
		for _, name := range names {
			if n.Name == name {
				out = append(out, n)
			}
		}
	}
	return out
}
