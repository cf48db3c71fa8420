package checker

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

func writeLog(t *testing.T, dir, node, name, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "nodes", node), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nodes", node, name), []byte(text), 0o644))
}

// TestLogsFindsAPanic: a node log with a Go panic makes the run invalid,
// naming the node, the test time of the last timestamped line before it,
// the line and the log; a clean log passes; none at all is unknown.
func TestLogsFindsAPanic(t *testing.T) {
	dir := t.TempDir()
	started := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)
	writeLog(t, dir, "n1", "kvnode.log", `{"level":"info","ts":"2026-12-01T21:00:01.000Z","msg":"started"}
`)
	writeLog(t, dir, "n2", "kvnode.log", `{"level":"info","ts":"2026-12-01T21:00:12.500Z","msg":"restarted"}
panic: tocommit(908) is out of range [lastIndex(3)]. Was the raft log corrupted, truncated, or lost?

goroutine 1 [running]:
go.etcd.io/raft/v3.(*raftLog).commitTo(0xc000)
	/go/pkg/raft/log.go:321 +0x1a
{"level":"fatal","ts":"2026-12-01T21:00:20.000Z","msg":"boom"}
`)
	r := Logs{Dir: dir, Started: started}.Check(context.Background(), nil, "")
	require.Equal(t, harness.ValidFalse, r.Valid)
	d := r.Details.(*LogsDetails)
	assert.Equal(t, 2, d.Files)
	require.Len(t, d.Hits, 2)
	assert.Equal(t, "n2", d.Hits[0].Node)
	assert.Equal(t, "nodes/n2/kvnode.log", d.Hits[0].File)
	assert.Equal(t, 2, d.Hits[0].Line)
	require.NotNil(t, d.Hits[0].TimeS)
	assert.InDelta(t, 12.5, *d.Hits[0].TimeS, 0.001)
	assert.Contains(t, d.Hits[0].Text, "tocommit(908)")
	assert.InDelta(t, 20.0, *d.Hits[1].TimeS, 0.001)
	assert.Contains(t, r.Summary[1], "n2 at 12.50s, nodes/n2/kvnode.log:2: panic: tocommit(908)")

	clean := t.TempDir()
	writeLog(t, clean, "n1", "etcd.log", `{"level":"warn","msg":"slow fdatasync"}`+"\n")
	assert.Equal(t, harness.ValidTrue, Logs{Dir: clean}.Check(context.Background(), nil, "").Valid)
	assert.Equal(t, harness.ValidUnknown, Logs{Dir: t.TempDir()}.Check(context.Background(), nil, "").Valid, "no log is not a clean log")

	r = Logs{Dir: dir, Expected: []string{`tocommit`, `"msg":"boom"`}}.Check(context.Background(), nil, "")
	assert.Equal(t, harness.ValidTrue, r.Valid, "lines the test caused on purpose are counted, not held against the store")
	assert.Equal(t, 2, r.Details.(*LogsDetails).Expected)
	r = Logs{Dir: dir, Patterns: []string{"("}}.Check(context.Background(), nil, "")
	assert.Equal(t, harness.ValidUnknown, r.Valid)
}

// TestARefusalOfDamagedFilesIsExpected: what a node logs while its store
// refuses files the corrupt fault damaged is the test's doing, on that
// node and during that op only; the same line elsewhere or later is a
// finding.
func TestARefusalOfDamagedFilesIsExpected(t *testing.T) {
	dir := t.TempDir()
	started := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)
	fatal := func(at string) string {
		return `{"level":"fatal","ts":"2026-12-01T21:00:` + at + `Z","msg":"failed to read WAL","error":"walpb: crc mismatch"}` + "\n"
	}
	writeLog(t, dir, "n2", "etcd.log", fatal("10.200"))
	stop := []harness.Op{
		{Process: harness.NemesisProcess, Type: harness.Invoke, F: "stop-corrupt", Time: 10 * time.Second},
		{Process: harness.NemesisProcess, Type: harness.OK, F: "stop-corrupt", Time: 14 * time.Second,
			Value: harness.MustValue(map[string]any{"nodes": []string{"n2"}, "refused": map[string]string{"n2": "walpb: crc mismatch"}})},
	}
	r := Logs{Dir: dir, Started: started}.Check(context.Background(), stop, "")
	assert.Equal(t, harness.ValidTrue, r.Valid, "%v", r.Summary)
	assert.Equal(t, 1, r.Details.(*LogsDetails).Expected)

	writeLog(t, dir, "n2", "etcd.log", fatal("10.200")+fatal("30.000"))
	r = Logs{Dir: dir, Started: started}.Check(context.Background(), stop, "")
	assert.Equal(t, harness.ValidFalse, r.Valid, "a fatal line after the refusal is the store's")

	writeLog(t, dir, "n2", "etcd.log", "")
	writeLog(t, dir, "n3", "etcd.log", fatal("11.000"))
	r = Logs{Dir: dir, Started: started}.Check(context.Background(), stop, "")
	assert.Equal(t, harness.ValidFalse, r.Valid, "a refusal on n2 excuses nothing on n3")
	assert.Equal(t, harness.ValidFalse, Logs{Dir: dir, Started: started}.Check(context.Background(), nil, "").Valid)
}

// TestADyingProcessIsOneDeath: a second goroutine's panic printed as a
// process dies of a failpoint's panic is part of that death; a panic
// after the process logged again (it restarted) is the store's.
func TestADyingProcessIsOneDeath(t *testing.T) {
	dir := t.TempDir()
	started := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)
	dump := `{"level":"info","ts":"2026-12-01T21:00:20.000Z","msg":"starting defragment"}
panic: failpoint panic: defragBeforeCopy

goroutine 1429 [running]:
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0xadfbfa]
`
	writeLog(t, dir, "n3", "etcd.log", dump)
	l := Logs{Dir: dir, Started: started, Expected: []string{`failpoint panic: defragBeforeCopy\b`}}
	r := l.Check(context.Background(), nil, "")
	assert.Equal(t, harness.ValidTrue, r.Valid, "%v", r.Summary)
	assert.Equal(t, 2, r.Details.(*LogsDetails).Expected)

	writeLog(t, dir, "n3", "etcd.log", dump+`{"level":"info","ts":"2026-12-01T21:00:22.000Z","msg":"restarted"}
panic: runtime error: invalid memory address or nil pointer dereference
`)
	r = l.Check(context.Background(), nil, "")
	assert.Equal(t, harness.ValidFalse, r.Valid, "a panic of the restarted process is a finding")
	assert.Equal(t, 2, r.Details.(*LogsDetails).Expected)

	writeLog(t, dir, "n3", "etcd.log", `{"level":"info","ts":"2026-12-01T21:00:20.000Z","msg":"starting defragment"}
panic: runtime error: invalid memory address or nil pointer dereference
goroutine 174 [running]:
panic: failpoint panic: defragBeforeCopy
`)
	r = l.Check(context.Background(), nil, "")
	assert.Equal(t, harness.ValidTrue, r.Valid, "the other goroutine's panic may be printed first: %v", r.Summary)
}
