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
	"fmt"
	"math"
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
	args []string // time, nemesis and concurrency flags
	// faults must each have been injected for the run to count.
	faults []faultWindow
}

// faultWindow is a nemesis op that must complete ok, with at least okOps
// client ops invoked and answered ok in its window (see missingFault): a
// partition the workload ran into, or a restart the workload ran after.
type faultWindow struct {
	f     string
	okOps int
}

// kvnodeScenarios are the kvnode end-to-end tests, named after the bug each
// one must catch, all on 3 nodes. Seeds fix the fault schedule and every
// node it picks. Docker execs take seconds on a loaded machine, which
// squeezes a schedule: the stale-read and lost-restart scenarios therefore
// run 30 s with 4 threads per node, so that several fault windows and a
// dozen processes give the bug many chances to show.
var kvnodeScenarios = []kvnodeScenario{
	{
		name: "correct",
		args: []string{"--time-limit", "24", "--nemesis-interval", "4",
			"--nemesis", "partition,kill", "--seed", "7"},
		faults: []faultWindow{{"start-partition", 1}, {"kill", 1}},
	},
	{
		name: "stale-read", bug: "stale-read",
		args: []string{"--time-limit", "30", "--nemesis-interval", "5", "--concurrency", "4n",
			"--nemesis", "partition", "--partition", "one", "--seed", "11"},
		faults: []faultWindow{{"start-partition", 20}},
	},
	{
		name: "early-ack", bug: "early-ack",
		args: []string{"--time-limit", "24", "--nemesis-interval", "4",
			"--nemesis", "partition", "--partition", "leader", "--seed", "13"},
		faults: []faultWindow{{"start-partition", 20}},
	},
	{
		name: "lost-restart", bug: "lost-restart",
		args: []string{"--time-limit", "30", "--nemesis-interval", "5", "--concurrency", "4n",
			"--nemesis", "kill", "--kill-targets", "all", "--seed", "17"},
		faults: []faultWindow{{"kill", 0}, {"start", 20}},
	},
}

// kvnodeAttempts bounds the runs of one scenario. A run is repeated only
// when its faults could not be injected in time and its verdict is the one
// a run without faults could give (valid for the correct node, not caught
// for a bug mode): on a shared Docker engine an exec can take over ten
// seconds, which can leave a kill unconfirmed or a restart with no
// workload after it, and such a run says nothing about the node. An
// invalid run of the correct node, and a run whose faults were injected,
// are never retried.
const kvnodeAttempts = 3

// kvnodeRun is one finished run of a scenario.
type kvnodeRun struct {
	code    int
	dir     string
	stderr  string
	history harness.History
}

// runKvnodeScenario runs sc on 3 nodes until a run is conclusive (see
// kvnodeAttempts), at most kvnodeAttempts times, and returns that run. Every
// attempt must tear its cluster down.
func runKvnodeScenario(t *testing.T, cli *client.Client, sc kvnodeScenario) kvnodeRun {
	t.Helper()
	for attempt := 1; attempt <= kvnodeAttempts; attempt++ {
		store := t.TempDir()
		args := []string{"test", "--target", "kvnode", "--nodes", "3",
			"--name", "kvnode-" + sc.name, "--store", store}
		if sc.bug != "" {
			args = append(args, "--target-bug", sc.bug)
		}
		r := runFaultline(t, 5*time.Minute, append(args, sc.args...)...)
		assertTornDown(t, cli, r.stderr)
		dir, err := filepath.EvalSymlinks(filepath.Join(store, "latest"))
		require.NoError(t, err, "the run must be stored:\n%s", r.stderr)
		h, err := harness.ReadJSONLFile(filepath.Join(dir, results.HistoryFile))
		require.NoError(t, err)
		require.NoError(t, h.Validate())
		run := kvnodeRun{code: r.code, dir: dir, stderr: r.stderr, history: h}
		missing := missingFault(h, sc.faults)
		switch {
		case missing == "":
			return run
		case sc.bug == "" && r.code != 0:
			return run // an anomaly, or a failure, is never retried away
		case sc.bug != "" && r.code == 1:
			return run // caught, even in a squeezed schedule
		}
		t.Logf("attempt %d of %d proves nothing: %s; running it again", attempt, kvnodeAttempts, missing)
	}
	t.Fatalf("%s: in %d attempts the faults were never injected in time", sc.name, kvnodeAttempts)
	return kvnodeRun{}
}

// missingFault returns which fault window of want the history lacks, or ""
// when every one was injected. A window opens when its nemesis op is
// invoked, since a slow op (a restart whose execs take seconds) takes effect
// node by node while it runs, and closes when the next nemesis op is invoked
// or, for the last, when the workload ends (the final heal).
func missingFault(h harness.History, want []faultWindow) string {
	faults := h.Nemesis().Pairs()
	clientPairs := h.Client().Pairs()
	for _, w := range want {
		best := -1
		for i, f := range faults {
			if f.Invoke.F != w.f || f.Completion == nil || f.Completion.Type != harness.OK {
				continue
			}
			end := time.Duration(math.MaxInt64)
			if i+1 < len(faults) {
				end = faults[i+1].Invoke.Time
			}
			ok := 0
			for _, p := range clientPairs {
				if p.Invoke.Time > f.Invoke.Time && p.Invoke.Time < end && p.Completion != nil && p.Completion.Type == harness.OK {
					ok++
				}
			}
			best = max(best, ok)
		}
		if best < w.okOps {
			return fmt.Sprintf("no %s followed by %d ok client ops (best: %d)", w.f, w.okOps, best)
		}
	}
	return ""
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
	run := runKvnodeScenario(t, cli, kvnodeScenarios[0])
	require.Equal(t, 0, run.code, "a correct kvnode under faults must be valid:\n%s", run.stderr)
	dir := run.dir
	assert.Equal(t, harness.ValidTrue, readResults(t, dir).Valid)
	ok := 0
	for _, op := range run.history.Client() {
		if op.Type == harness.OK {
			ok++
		}
	}
	assert.Greater(t, ok, 100, "clients must get something done, even on a loaded machine")
	assert.NotContains(t, nodeLog(t, dir), "KVNODE BUG", "the correct node must run no bug mode")

	again := runFaultline(t, 5*time.Minute, "check", dir)
	assert.Equal(t, 0, again.code, "re-checking a valid run must give valid")
}

// TestKvnodeBugModesAreCaught: each bug mode, under the nemesis that exposes
// it, must make the run invalid, through the linearizability checker.
func TestKvnodeBugModesAreCaught(t *testing.T) {
	cli := dockerClient(t)
	for _, sc := range kvnodeScenarios[1:] {
		t.Run(sc.name, func(t *testing.T) {
			run := runKvnodeScenario(t, cli, sc)
			require.Equal(t, 1, run.code, "kvnode --bug %s must be caught:\n%s", sc.bug, run.stderr)
			dir := run.dir
			rs := readResults(t, dir)
			assert.Equal(t, harness.ValidFalse, rs.Checkers["linearizable"].Valid,
				"the linearizability checker must be the one that catches it")
			assert.Contains(t, nodeLog(t, dir), "KVNODE BUG MODE ENABLED: "+sc.bug)
			pages, err := filepath.Glob(filepath.Join(dir, "linear", "*.html"))
			require.NoError(t, err)
			assert.NotEmpty(t, pages, "every non-linearizable key gets a visualization")
		})
	}
}
