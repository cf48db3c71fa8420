package main

// End-to-end tests of a run's reports on real etcd: every run writes its
// plots, timeline, junit.xml and history.edn; re-checking the run, from
// either history, gives the run's verdict; and a run whose harness is
// kill -9'd mid-run is checked from the prefix it left.

import (
	"bufio"
	"context"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
	"github.com/faultline/faultline/targets/docker"
)

// TestRunWritesReportsAndChecksTheSame: a short run under partitions and
// kills writes every report, its junit.xml agrees with results.json, and
// `faultline check` of the run and of its history.edn give its verdict.
func TestRunWritesReportsAndChecksTheSame(t *testing.T) {
	store := t.TempDir()
	r := runFaultline(t, 6*time.Minute, "test", "--nodes", "3", "--time-limit", "20", "--nemesis", "partition,kill",
		"--nemesis-interval", "4", "--seed", "7", "--store", store)
	require.Contains(t, []int{0, 1, 2}, r.code, "the run must reach a verdict:\n%s", r.stderr)
	dir := latest(t, store)
	for _, name := range []string{results.LatencyRawPlot, results.LatencyQuantilesPlot, results.RatePlot,
		results.TimelineFile, results.JUnitFile, results.EDNHistoryFile} {
		st, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Positive(t, st.Size(), name)
	}
	rs := readResults(t, dir)
	b, err := os.ReadFile(filepath.Join(dir, results.JUnitFile))
	require.NoError(t, err)
	var junit struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	require.NoError(t, xml.Unmarshal(b, &junit))
	assert.Equal(t, len(rs.Checkers), junit.Tests, "one testcase per checker")
	failing := 0
	for _, c := range rs.Checkers {
		if c.Valid == harness.ValidFalse {
			failing++
		}
	}
	assert.Equal(t, failing, junit.Failures)

	assert.Equal(t, r.code, runFaultline(t, 5*time.Minute, "check", dir).code, "check of the run")
	assert.Equal(t, r.code, runFaultline(t, 5*time.Minute, "check", filepath.Join(dir, results.EDNHistoryFile)).code, "check of its history.edn")
}

// TestCheckAfterKill9MidRun: kill -9 the harness while its clients are
// busy; the history it left checks, and the prefix of a correct store is
// valid. The containers it left are swept.
func TestCheckAfterKill9MidRun(t *testing.T) {
	cli := dockerClient(t)
	store := t.TempDir()
	cmd := exec.Command(faultlineBin, "test", "--nodes", "3", "--time-limit", "120", "--nemesis", "partition,kill",
		"--nemesis-interval", "3", "--seed", "7", "--store", store)
	require.NoError(t, cmd.Start())
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		_, err := docker.Sweep(context.Background(), cli, true)
		assert.NoError(t, err)
		c, n := owned(t, cli, cmd.Process.Pid)
		assert.Zero(t, c, "the killed run's containers are swept")
		assert.Zero(t, n, "the killed run's network is swept")
	}()

	// Wait until the clients have recorded a good many ops, with faults.
	var hist string
	deadline := time.Now().Add(4 * time.Minute)
	for time.Now().Before(deadline) {
		if dirs, _ := filepath.Glob(filepath.Join(store, "*", "*", results.HistoryFile)); len(dirs) == 1 {
			hist = dirs[0]
			if countLines(hist) > 1500 {
				break
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	require.NotEmpty(t, hist, "the run never started recording")
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	killed = true
	dir := filepath.Dir(hist)
	assert.NoFileExists(t, filepath.Join(dir, results.ResultsFile), "a killed harness reached no verdict")

	// Every property the prefix holds is judged and holds; the replicas'
	// hashes, which the harness takes only at the end, were never taken,
	// and the verdict says so rather than pass them.
	r := runFaultline(t, 5*time.Minute, "check", dir)
	assert.Equal(t, harness.ValidUnknown.ExitCode(), r.code, "the prefix a killed run leaves on a correct store:\n%s", r.stdout)
	assert.Regexp(t, `(?m)^replicas\s+valid=unknown\n.*\n\s+unknown: no member was hashed`, r.stdout)
	for _, name := range []string{"availability", "history", "linearizable", "revisions", "stats"} {
		assert.Regexp(t, `(?m)^`+name+`\s+valid=true$`, r.stdout, "the prefix is judged by %s and holds", name)
	}
}

func countLines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		n++
	}
	return n
}
