package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
)

// replayable are the flags that may be given beside --replay: where the
// run is stored. Everything else comes from the replayed test.json.
var replayable = []string{"replay", "store", "name"}

// replaySpec reads the spec of a stored run (its test.json) for --replay.
// The run is repeated with the same target, nodes, workload, seed and,
// above all, the same fault schedule, taken as recorded rather than drawn
// again, so a change to the schedule's drawing never changes a replay.
// Client ops are drawn from the same seed but interleave as the new run's
// timing has them.
//
// set names the flags given on the command line. Every check the flags
// get is made on the file too, before anything starts; any failure is bad
// input naming --replay.
func replaySpec(path string, set map[string]bool, f *testFlags) (harness.Spec, error) {
	var s harness.Spec
	for name := range set {
		if !slices.Contains(replayable, name) {
			return s, harness.BadFlag("replay", "--%s cannot be given with --replay: the replayed test.json fixes the whole test (only --store and --name may be)", name)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return s, harness.BadFlag("replay", "cannot read %s: %v", path, err)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, harness.BadFlag("replay", "%s does not parse as a test.json: %v", path, err)
	}
	if err := validateReplay(s); err != nil {
		return s, harness.BadFlag("replay", "%s: %v", path, err)
	}
	s.Replay, s.Cluster, s.Versions = path, nil, nil
	if set["store"] {
		s.Store = f.store
	}
	if set["name"] {
		s.Name = f.name
	}
	return s, checkName(s.Name)
}

// validateReplay checks a replayed spec as the flags would have been
// checked, and its schedule step by step.
func validateReplay(s harness.Spec) error {
	if !slices.Contains(targetNames(), s.Target) {
		return fmt.Errorf("unknown target %q: want one of %s", s.Target, strings.Join(targetNames(), ", "))
	}
	if !slices.Contains(workloadNames(), s.Workload) {
		return fmt.Errorf("unknown workload %q: want one of %s", s.Workload, strings.Join(workloadNames(), ", "))
	}
	if s.Seed == 0 {
		return fmt.Errorf("no seed: a replay needs the recorded one")
	}
	if err := validateTargetBug(s.Target, s.TargetBug); err != nil {
		return err
	}
	if s.ClientMode != "" {
		if err := validateClientMode(s.ClientMode); err != nil {
			return err
		}
	}
	if s.CheckTimeout <= 0 || s.RecoverTimeout <= 0 {
		return fmt.Errorf("check_timeout and recover_timeout must be positive")
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if err := nemesis.ValidateSchedule(s.Schedule, s.Nodes); err != nil {
		return err
	}
	return targetCanDo(targetFor(s), nemesis.ScheduleFaults(s.Schedule))
}
