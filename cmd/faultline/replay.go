package main

import (
	"errors"
	"os"
	"slices"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/harness"
)

// replayable are the flags that may be given beside --replay: where the
// run is stored. Everything else comes from the replayed test.json.
var replayable = []string{"replay", "store", "name"}

// maxReplayFile bounds a test.json read for --replay: a stored one is a
// few kilobytes, and a huge file is no test.json.
const maxReplayFile = 16 << 20

// replaySpec reads the spec of a stored run (its test.json) for --replay.
// The run is repeated with the same target, nodes, workload, seed and,
// above all, the same fault schedule, taken as recorded rather than drawn
// again, so a change to the schedule's drawing never changes a replay.
// Client ops are drawn from the same seed but interleave as the new run's
// timing has them.
//
// typed names the flags given on the command line. The file is decoded
// strictly (an unknown field is refused) and then takes the one path
// every spec takes, faultline.Validate, schedule included; any failure is
// bad input naming --replay and the file.
func replaySpec(path string, typed map[string]string, f *testFlags) (harness.Spec, error) {
	var s harness.Spec
	for name := range typed {
		if !slices.Contains(replayable, name) {
			return s, harness.BadFlag("replay", "--%s cannot be given with --replay: the replayed test.json fixes the whole test (only --store and --name may be)", name)
		}
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return s, harness.BadFlag("replay", "cannot read %s: %v", harness.Quote(path), err)
	case fi.IsDir():
		return s, harness.BadFlag("replay", "%s is a directory; give the run's test.json", harness.Quote(path))
	case fi.Size() > maxReplayFile:
		return s, harness.BadFlag("replay", "%s holds %d bytes; a test.json is a few kilobytes", harness.Quote(path), fi.Size())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return s, harness.BadFlag("replay", "cannot read %s: %v", harness.Quote(path), err)
	}
	if s, err = harness.ReadSpec(raw, true); err != nil {
		return s, harness.BadFlag("replay", "%s: %v", harness.Quote(path), err)
	}
	if s.Seed == 0 {
		return s, harness.BadFlag("replay", "%s: no seed: a replay needs the recorded one", harness.Quote(path))
	}
	if missing := incomplete(s); missing != "" {
		return s, harness.BadFlag("replay", "%s: %s is missing or zero: a stored test.json has every field, and a replay fills in no default", harness.Quote(path), missing)
	}
	s.Replay, s.Cluster, s.Versions = path, nil, nil
	if _, ok := typed["store"]; ok {
		s.Store = f.store
	}
	if _, ok := typed["name"]; ok {
		s.Name = f.name
	}
	if err := checkStore(s.Store); err != nil {
		return s, err
	}
	s, err = faultline.Validate(s)
	var fe *harness.FlagError
	if errors.As(err, &fe) {
		if _, given := typed[fe.Flag]; !given {
			// The file's own value: the file is at fault.
			return s, harness.BadFlag("replay", "%s: %v", harness.Quote(path), err)
		}
	}
	return s, f.asTyped(err)
}

// incomplete names the first field a stored spec must have and lacks;
// faultline.Validate would fill in a default where a replay must refuse.
func incomplete(s harness.Spec) string {
	for _, f := range []struct {
		name string
		zero bool
	}{
		{"name", s.Name == ""}, {"target", s.Target == ""}, {"nodes", s.Nodes == 0}, {"workload", s.Workload == ""},
		{"time_limit", s.TimeLimit == 0}, {"concurrency", s.Concurrency == 0}, {"op_timeout", s.OpTimeout == 0},
		{"check_timeout", s.CheckTimeout == 0}, {"recover_timeout", s.RecoverTimeout == 0}, {"store", s.Store == ""},
		{"nemesis_interval", s.NemesisInterval == 0 && len(s.Nemesis) > 0},
	} {
		if f.zero {
			return f.name
		}
	}
	return ""
}
