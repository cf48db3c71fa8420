package results

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// storeRun writes a minimal run: a spec, a history of n ok writes each
// taking ms milliseconds, and results with the given verdict and an
// availability headline.
func storeRun(t *testing.T, root, name string, nodes int, valid string, n int, ms int) string {
	t.Helper()
	run, err := NewRun(root, name, time.Now().Add(time.Duration(len(name))*time.Second))
	require.NoError(t, err)
	spec := harness.Spec{Name: name, Target: "etcd", Nodes: nodes, Nemesis: []string{"partition"}, Partition: "minority-leader", TimeLimit: 10 * time.Second}
	require.NoError(t, run.WriteJSON(TestFile, spec))
	var h harness.History
	for i := 0; i < n; i++ {
		at := time.Duration(i) * 100 * time.Millisecond
		h = append(h,
			harness.Op{Index: 2 * i, Process: 0, Type: harness.Invoke, F: "write", Time: at},
			harness.Op{Index: 2*i + 1, Process: 0, Type: harness.OK, F: "write", Time: at + time.Duration(ms)*time.Millisecond})
	}
	f, err := os.Create(run.Path(HistoryFile))
	require.NoError(t, err)
	require.NoError(t, harness.WriteJSONL(f, h))
	require.NoError(t, f.Close())
	results := `{"valid": ` + valid + `, "checkers": {
		"linearizable": {"valid": ` + valid + `},
		"availability": {"valid": true, "details": {"headline": {"write_availability": 0.9, "election_gap_s": 1.25,
			"minority_linearizable_ok": 0, "minority_serializable_reads": 7, "recovery_s": 3.5,
			"windows": 3, "judged": 2, "met": 2}}}}}`
	require.NoError(t, run.WriteFile(ResultsFile, []byte(results)))
	return run.Dir
}

func TestCellOfAStoredRun(t *testing.T) {
	root := t.TempDir()
	dir := storeRun(t, root, "etcd-n5", 5, "true", 50, 4)
	c, err := CellOf(dir)
	require.NoError(t, err)
	assert.Equal(t, "VALID", c.Verdict)
	assert.Equal(t, "minority-leader", c.Faults)
	assert.InDelta(t, 5.0, c.OKPerSecond, 0.01, "50 ok ops over a 10 s time limit")
	require.NotNil(t, c.LatencyP50Ms)
	assert.InDelta(t, 4.0, *c.LatencyP50Ms, 0.01)
	require.NotNil(t, c.Availability)
	assert.Equal(t, 7, c.Availability.MinoritySerializableReads)
	assert.Equal(t, 0, c.ExitCode())

	require.NoError(t, os.Remove(filepath.Join(dir, ResultsFile)))
	c, err = CellOf(dir)
	require.NoError(t, err)
	assert.Equal(t, "ERROR", c.Verdict, "a run that never finished")
	assert.Equal(t, 255, c.ExitCode())

	_, err = CellOf(t.TempDir())
	assert.ErrorContains(t, err, "is not a run")
}

func TestRunDirsExpandsTestDirectories(t *testing.T) {
	root := t.TempDir()
	a := storeRun(t, root, "a", 3, "true", 1, 1)
	b := storeRun(t, root, "b", 3, "true", 1, 1)
	dirs, err := RunDirs([]string{filepath.Join(root, "b"), a})
	require.NoError(t, err)
	assert.Equal(t, []string{b, a}, dirs)
	_, err = RunDirs([]string{t.TempDir()})
	assert.ErrorContains(t, err, "holds no run")
}

func TestTableRendersAndStores(t *testing.T) {
	root := t.TempDir()
	var cells []Cell
	for _, d := range []string{storeRun(t, root, "etcd-n3", 3, "true", 20, 2), storeRun(t, root, "etcd-n5", 5, "false", 30, 8)} {
		c, err := CellOf(d)
		require.NoError(t, err)
		cells = append(cells, c)
	}
	cells = append(cells, Cell{Target: "etcd", Nodes: 3, Faults: "majorities-ring", Name: "etcd-n3-ring", Verdict: "SKIPPED", Reason: "needs at least 4 nodes"})
	tab := Table{Title: "matrix", Created: time.Now(), WallSeconds: 95, Cells: cells}
	assert.Equal(t, 1, tab.ExitCode(), "the worst verdict is invalid")
	assert.Equal(t, 255, Table{Cells: append(cells, Cell{Verdict: "ERROR"})}.ExitCode())
	assert.Equal(t, 2, Table{Cells: []Cell{{Verdict: "UNKNOWN"}, {Verdict: "VALID"}}}.ExitCode())

	md := tab.Markdown()
	lines := strings.Split(md, "\n")
	require.GreaterOrEqual(t, len(lines), 7)
	assert.Contains(t, lines[2], "| target | nodes | faults | verdict | ok ops/s | p50 ms | p99 ms | election gap s | minority ok ops | recovery s | writes accepted | expectations met | run |")
	assert.Contains(t, md, "| etcd | 5 | minority-leader | INVALID | 3.0 | 8.0 | 8.0 | 1.25 | 0 (+7 serializable reads) | 3.50 | 90.0% | 2/2 (1 not judged) |")
	assert.Contains(t, md, "| etcd | 3 | majorities-ring | SKIPPED |")
	assert.Contains(t, md, "- etcd-n5: linearizable=false")
	assert.Contains(t, md, "3 cells in 1m35s")

	out := t.TempDir()
	require.NoError(t, tab.Write(out))
	for _, f := range []string{TableMarkdown, TableHTML, TableJSON, JUnitFile} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	page, err := os.ReadFile(filepath.Join(out, TableHTML))
	require.NoError(t, err)
	assert.Contains(t, string(page), `<tr class="INVALID">`)
	raw, err := os.ReadFile(filepath.Join(out, JUnitFile))
	require.NoError(t, err)
	var junit JUnitSuites
	require.NoError(t, xml.Unmarshal(raw, &junit))
	assert.Equal(t, 3, junit.Tests)
	assert.Equal(t, 1, junit.Failures)
}
