package main

// End-to-end tests of kvnode, faultline's own raft KV: the correct node must
// come out valid under partitions and kills, and each bug mode must be
// caught. Like the etcd tests beside them, they run the real binary against
// real containers and fail, never skip, without Docker.
//
// Each bug scenario is the nemesis that exposes that class of bug, tuned to
// catch it in every short run rather than in most long ones (the detection
// rates of 60 s runs are in kvnode/README.md):
//   - stale-read: isolate one node; its reads, served locally, miss the
//     majority's writes;
//   - early-ack: isolate the leader; the writes it acknowledges before its
//     CheckQuorum step-down never commit;
//   - lost-restart: kill every node; a majority that forgets its log
//     forgets acknowledged writes.

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
	"github.com/faultline/faultline/targets/docker"
)

// kvnodeScenario is one short kvnode test and the verdict it must reach.
type kvnodeScenario struct {
	name string
	bug  string   // --target-bug; empty for the correct node
	args []string // nemesis flags
	// faults are nemesis functions that must have completed ok at least
	// once, so that a schedule change cannot quietly test nothing.
	faults []string
}

// kvnodeScenarios are the kvnode end-to-end tests, named after the bug each
// one must catch. Seeds fix the fault schedule and every node it picks.
var kvnodeScenarios = []kvnodeScenario{
	{
		name: "correct", args: []string{"--nemesis", "partition,kill", "--seed", "7"},
		faults: []string{"start-partition", "kill"},
	},
	{
		name: "stale-read", bug: "stale-read",
		args:   []string{"--nemesis", "partition", "--partition", "one", "--seed", "11"},
		faults: []string{"start-partition"},
	},
	{
		name: "early-ack", bug: "early-ack",
		args:   []string{"--nemesis", "partition", "--partition", "leader", "--seed", "13"},
		faults: []string{"start-partition"},
	},
	{
		name: "lost-restart", bug: "lost-restart",
		args:   []string{"--nemesis", "kill", "--kill-targets", "all", "--seed", "17"},
		faults: []string{"kill", "start"},
	},
}

// runKvnodeScenario runs sc on 3 nodes for 24 s, with a fault every 4 s,
// and returns the run's exit code, its directory and its progress (stderr).
func runKvnodeScenario(t *testing.T, sc kvnodeScenario) (int, string, string) {
	t.Helper()
	store := t.TempDir()
	args := []string{"test", "--target", "kvnode", "--nodes", "3", "--time-limit", "24",
		"--nemesis-interval", "4", "--name", "kvnode-" + sc.name, "--store", store}
	if sc.bug != "" {
		args = append(args, "--target-bug", sc.bug)
	}
	r := faultline(t, 5*time.Minute, append(args, sc.args...)...)
	dir, err := filepath.EvalSymlinks(filepath.Join(store, "latest"))
	require.NoError(t, err, "the run must be stored:\n%s", r.stderr)
	return r.code, dir, r.stderr
}

// requireFaults checks that every fault of sc was really injected.
func requireFaults(t *testing.T, dir string, sc kvnodeScenario) harness.History {
	t.Helper()
	h, err := harness.ReadJSONLFile(filepath.Join(dir, results.HistoryFile))
	require.NoError(t, err)
	require.NoError(t, h.Validate())
	done := map[string]int{}
	for _, op := range h.Nemesis() {
		if op.Type == harness.OK {
			done[op.F]++
		}
	}
	for _, f := range sc.faults {
		require.Positive(t, done[f], "the schedule must %s: %v", f, done)
	}
	return h
}

// clusterLine is the progress line naming a run's network, faultline-<run id>.
var clusterLine = regexp.MustCompile(`cluster faultline-([a-z0-9][a-z0-9_.-]*): \d+ containers`)

// assertTornDown checks that the run whose progress went to stderr left
// neither a container nor its network. It looks only at that run's labels:
// other runs may share the Docker engine.
func assertTornDown(t *testing.T, cli *client.Client, stderr string) {
	t.Helper()
	m := clusterLine.FindStringSubmatch(stderr)
	require.NotNil(t, m, "the run must report its cluster:\n%s", stderr)
	f := filters.NewArgs(filters.Arg("label", docker.LabelRun+"="+m[1]))
	cs, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: f})
	require.NoError(t, err)
	ns, err := cli.NetworkList(context.Background(), network.ListOptions{Filters: f})
	require.NoError(t, err)
	assert.Empty(t, cs, "run %s must leave no container behind", m[1])
	assert.Empty(t, ns, "run %s must leave no network behind", m[1])
}

// nodeLog returns n1's kvnode log from the run.
func nodeLog(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, results.NodesDir, "n1", "kvnode.log"))
	require.NoError(t, err, "the node logs must be copied out")
	return string(b)
}

// TestKvnodeUnderFaultsIsValid: the correct kvnode, partitioned and killed,
// must be valid, and re-checking the stored run must agree.
func TestKvnodeUnderFaultsIsValid(t *testing.T) {
	cli := dockerClient(t)
	sc := kvnodeScenarios[0]
	code, dir, stderr := runKvnodeScenario(t, sc)
	require.Equal(t, 0, code, "a correct kvnode under faults must be valid:\n%s", stderr)
	assert.Equal(t, harness.ValidTrue, readResults(t, dir).Valid)
	h := requireFaults(t, dir, sc)
	ok := 0
	for _, op := range h.Client() {
		if op.Type == harness.OK {
			ok++
		}
	}
	assert.Greater(t, ok, 300, "clients must get plenty done, even on a loaded machine")
	assert.NotContains(t, nodeLog(t, dir), "KVNODE BUG", "the correct node must run no bug mode")

	again := faultline(t, 5*time.Minute, "check", dir)
	assert.Equal(t, 0, again.code, "re-checking a valid run must give valid")
	assertTornDown(t, cli, stderr)
}

// TestKvnodeBugModesAreCaught: each bug mode, under the nemesis that exposes
// it, must make the run invalid, through the linearizability checker.
func TestKvnodeBugModesAreCaught(t *testing.T) {
	cli := dockerClient(t)
	for _, sc := range kvnodeScenarios[1:] {
		t.Run(sc.name, func(t *testing.T) {
			code, dir, stderr := runKvnodeScenario(t, sc)
			require.Equal(t, 1, code, "kvnode --bug %s must be caught:\n%s", sc.bug, stderr)
			rs := readResults(t, dir)
			assert.Equal(t, harness.ValidFalse, rs.Checkers["linearizable"].Valid,
				"the linearizability checker must be the one that catches it")
			requireFaults(t, dir, sc)
			assert.Contains(t, nodeLog(t, dir), "KVNODE BUG MODE ENABLED: "+sc.bug)
			pages, err := filepath.Glob(filepath.Join(dir, "linear", "*.html"))
			require.NoError(t, err)
			assert.NotEmpty(t, pages, "every non-linearizable key gets a visualization")
			assertTornDown(t, cli, stderr)
		})
	}
}
