package main

import (
	"fmt"
	"strings"

	"github.com/faultline/faultline/harness"
)

// Client modes, the values of --client-mode.
const (
	// modePinned pins thread i to node i mod N, as Jepsen does.
	modePinned = "pinned"
	// modeFailover gives every thread every endpoint; its ops carry
	// harness.FailoverNode as their node.
	modeFailover = "failover"
	// modeMixed alternates: even threads are pinned (the k-th pinned
	// thread to node k mod N, so every node gets one), odd ones fail over.
	modeMixed = "mixed"
)

// clientModes lists the --client-mode values in --help order.
var clientModes = []string{modePinned, modeFailover, modeMixed}

// placement returns the runner's Place for a client mode.
func placement(mode string) func(thread int, nodes []harness.Node) harness.Node {
	failover := harness.Node{Name: harness.FailoverNode}
	switch mode {
	case modeFailover:
		return func(int, []harness.Node) harness.Node { return failover }
	case modeMixed:
		return func(i int, nodes []harness.Node) harness.Node {
			if i%2 == 1 {
				return failover
			}
			return nodes[(i/2)%len(nodes)]
		}
	}
	return nil
}

// endpointsOf returns the endpoints a client on n is given: n's own, or
// every node's for a failover client.
func endpointsOf(n harness.Node, all []harness.Node) ([]string, error) {
	if n.Name != harness.FailoverNode {
		return []string{n.Endpoint}, nil
	}
	eps := make([]string, len(all))
	for i, m := range all {
		eps[i] = m.Endpoint
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("failover client: the cluster has no nodes")
	}
	return eps, nil
}

// validateClientMode checks a --client-mode value.
func validateClientMode(mode string) error {
	for _, m := range clientModes {
		if m == mode {
			return nil
		}
	}
	return harness.BadFlag("client-mode", "unknown mode %q: want one of %s", mode, strings.Join(clientModes, ", "))
}
