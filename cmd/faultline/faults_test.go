package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// specOf parses args as faultline test's flags and validates them.
func specOf(t *testing.T, args ...string) (harness.Spec, error) {
	t.Helper()
	fs := newFlagSet("test", "test")
	var f testFlags
	f.register(fs)
	require.NoError(t, fs.Parse(args))
	f.noteTyped(fs)
	return f.spec()
}

func TestFaultFlags(t *testing.T) {
	s, err := specOf(t, "--nemesis", "pause,kill,loss", "--fault-targets", "minority,pause=leader", "--loss-probability", "0.5")
	require.NoError(t, err)
	assert.Equal(t, "leader", s.FaultTargets["pause"])
	assert.Equal(t, "minority", s.FaultTargets["loss"])
	assert.Equal(t, "minority", s.FaultTargets["kill"])
	assert.Equal(t, "0.5", s.FaultOptions["loss-probability"])
	assert.Equal(t, "0", s.FaultOptions["kill-count"], "an option not given takes its default")
	assert.NotContains(t, s.FaultOptions, "bandwidth", "options of faults not in use are not stored")

	s, err = specOf(t, "--kill-targets", "all", "--fault-targets", "one")
	require.NoError(t, err)
	assert.Equal(t, "all", s.FaultTargets["kill"], "--kill-targets keeps working and wins for kills")

	bad := map[string][]string{
		"loss-probability": {"--loss-probability", "1.5"},
		"fault-targets":    {"--fault-targets", "everyone"},
		"kill-targets":     {"--kill-targets", "everyone"},
		"bandwidth":        {"--nemesis", "bandwidth", "--bandwidth", "fast"},
		"delay":            {"--nemesis", "delay", "--delay", "0s"},
		"nemesis":          {"--nemesis", "member", "--nodes", "3"},
	}
	for flagName, args := range bad {
		_, err := specOf(t, args...)
		var fe *harness.FlagError
		require.True(t, errors.As(err, &fe), "%v: %v", args, err)
		assert.Equal(t, flagName, fe.Flag, "%v", args)
	}
	_, err = specOf(t, "--loss-probability", "-0.1")
	assert.ErrorContains(t, err, "--loss-probability")
	_, err = specOf(t, "--nemesis", "kill", "--bandwidth", "garbage")
	assert.ErrorContains(t, err, `--bandwidth`, "the options of a fault not enabled are checked too")
	assert.ErrorContains(t, err, `"garbage"`, "quoting what was typed")
}

func TestReplaySpec(t *testing.T) {
	s, err := specOf(t, "--nodes", "3", "--seed", "9", "--nemesis", "partition,crash")
	require.NoError(t, err)
	s.Schedule = []harness.Step{{At: 1, F: "start-crash", Value: json.RawMessage(`{"nodes":["n2"],"seed":0}`)}, {At: 2, F: "stop-crash"}}
	dir := t.TempDir()
	good := filepath.Join(dir, "test.json")
	raw, err := json.Marshal(s)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(good, raw, 0o644))

	f := testFlags{store: "elsewhere"}
	got, err := replaySpec(good, map[string]string{"replay": good, "store": "elsewhere"}, &f)
	require.NoError(t, err)
	assert.Equal(t, s.Schedule, got.Schedule)
	assert.Equal(t, int64(9), got.Seed)
	assert.Equal(t, "elsewhere", got.Store)
	assert.Equal(t, good, got.Replay)

	_, err = replaySpec(good, map[string]string{"replay": good, "nodes": "3"}, &f)
	assert.ErrorContains(t, err, "--nodes cannot be given with --replay")

	for name, content := range map[string]string{
		"garbage.json":  "{not json",
		"badstep.json":  string(raw[:len(raw)-1]) + `,"schedule":[{"at":1,"f":"flood"}]}`,
		"badnodes.json": string(raw[:len(raw)-1]) + `,"nodes":0}`,
		"unknown.json":  string(raw[:len(raw)-1]) + `,"nodez":3}`,
		"nostart.json":  string(raw[:len(raw)-1]) + `,"schedule":[{"at":1,"f":"stop-crash"}]}`,
		"twice.json":    string(raw[:len(raw)-1]) + `,"schedule":[{"at":1,"f":"kill","value":{"targets":"one","seed":1}},{"at":2,"f":"kill","value":{"targets":"one","seed":1}}]}`,
		"count.json":    string(raw[:len(raw)-1]) + `,"schedule":[{"at":1,"f":"kill","value":{"targets":"one","count":99,"seed":1}}]}`,
		"trailing.json": string(raw) + `{}`,
	} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		_, err := replaySpec(p, map[string]string{"replay": p}, &f)
		var fe *harness.FlagError
		require.True(t, errors.As(err, &fe), "%s: %v", name, err)
		assert.Equal(t, "replay", fe.Flag, name)
	}
	_, err = replaySpec(filepath.Join(dir, "missing.json"), nil, &f)
	assert.ErrorContains(t, err, "cannot read")
}
