package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/checker/availability"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/targets"
)

// availabilityChecker builds the availability checker of spec: its nodes,
// its read mode, and the target's election timeout, from which the default
// grace period follows. A spec without a node count (a bare history) has
// no checker: sides cannot be told without knowing the cluster.
func availabilityChecker(spec harness.Spec) (harness.Checker, bool, error) {
	if spec.Nodes < 1 {
		return nil, false, nil
	}
	election := targets.DefaultElectionTimeout
	if t := targetFor(spec); t != nil {
		election = targets.ElectionTimeoutOf(t)
	}
	grace := spec.AvailabilityGrace
	if grace <= 0 {
		grace = availability.DefaultGrace(election, spec.OpTimeout)
	}
	bound := spec.MajorityGapBound
	if bound <= 0 {
		bound = availability.DefaultMajorityGapBound(election, spec.OpTimeout)
	}
	c, err := availability.New(availability.Config{
		Nodes:            nemesis.NodeNames(spec.Nodes),
		Serializable:     spec.Serializable,
		ElectionTimeout:  election,
		Grace:            grace,
		MajorityGapBound: bound,
		Writes:           availabilityWrites(spec.Workload),
	})
	if err != nil {
		return nil, false, err
	}
	return withoutLocalOps(c, spec.Workload), true, nil
}

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
	if slices.Contains(clientModes, mode) {
		return nil
	}
	return harness.BadFlag("client-mode", "unknown mode %q: want one of %s", mode, strings.Join(clientModes, ", "))
}
