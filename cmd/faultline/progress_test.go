package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

func nemesisDone(f, value string) harness.Op {
	op := harness.Op{Process: harness.NemesisProcess, Type: harness.OK, F: f}
	if value != "" {
		op.Value = json.RawMessage(value)
	}
	return op
}

// TestProgressLine: the line counts outcomes and names the faults in
// force with the nodes they hit, as they start and stop.
func TestProgressLine(t *testing.T) {
	p := newProgress(30 * time.Second)
	for _, typ := range []harness.Type{harness.Invoke, harness.OK, harness.Invoke, harness.OK, harness.Invoke, harness.Fail, harness.Invoke, harness.Info} {
		p.record(harness.Op{Process: 0, Type: typ, F: "read"})
	}
	line := p.line()
	assert.Contains(t, line, "/ 30s")
	assert.Contains(t, line, "2 ok/s")
	assert.Contains(t, line, "ok 2  fail 1  info 1")
	assert.Contains(t, line, "fault: none")

	p.record(harness.Op{Process: harness.NemesisProcess, Type: harness.Invoke, F: "start-partition", Value: json.RawMessage(`{"layout":"halves"}`)})
	assert.Contains(t, p.line(), "fault: none", "a fault is in force once its op completes")
	p.record(nemesisDone("start-partition", `{"layout":"halves","groups":[["n1"],["n2","n3"]]}`))
	p.record(nemesisDone("kill", `{"nodes":["n3"]}`))
	line = p.line()
	assert.Contains(t, line, "fault: kill n3 + partition n1 | n2,n3")
	assert.Contains(t, line, "0 ok/s", "the rate is per second, not cumulative")
	p.record(nemesisDone("stop-partition", ""))
	assert.Contains(t, p.line(), "fault: kill n3")
	p.record(nemesisDone("start-partition", `{"layout":"one","groups":[["n2"],["n1","n3"]]}`))
	p.record(nemesisDone("heal", ""))
	assert.Contains(t, p.line(), "fault: none")
}

// TestProgressIsQuietWithoutATerminal: into a file, a pipe or /dev/null
// (a character device, but no terminal) the line writes nothing.
func TestProgressIsQuietWithoutATerminal(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	require.NoError(t, err)
	defer file.Close()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer null.Close()
	var stops []func()
	for _, f := range []*os.File{file, w, null} {
		assert.False(t, isTerminal(f), f.Name())
		stops = append(stops, newProgress(time.Second).start(f))
	}
	time.Sleep(1300 * time.Millisecond) // past the first redraw
	for _, stop := range stops {
		stop()
	}
	w.Close()
	st, err := file.Stat()
	require.NoError(t, err)
	assert.Zero(t, st.Size(), "nothing written to a file")
	buf := make([]byte, 16)
	n, _ := r.Read(buf)
	assert.Zero(t, n, "nothing written to a pipe")
}
