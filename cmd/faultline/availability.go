package main

import (
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
