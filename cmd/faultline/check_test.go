package main

// Tests of `faultline check` that need no cluster: Jepsen EDN import, the
// reports of --out, and the prefix a killed harness leaves.

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
	"github.com/faultline/faultline/results/edn"
)

const ednTestdata = "../../results/edn/testdata"

// TestCheckImportsJepsenEDN: hand-written Jepsen histories get the
// verdict and the exit code they deserve.
func TestCheckImportsJepsenEDN(t *testing.T) {
	for file, want := range map[string]int{
		"register-valid.edn":   0,
		"register-invalid.edn": 1,
		"independent.edn":      1,
	} {
		r := runFaultline(t, time.Minute, "check", filepath.Join(ednTestdata, file))
		assert.Equal(t, want, r.code, "%s:\n%s%s", file, r.stdout, r.stderr)
		verdict := map[int]string{0: "VALID", 1: "INVALID"}[want]
		assert.Contains(t, r.stdout, "verdict   "+verdict, file)
	}
}

// TestCheckRefusesMalformedEDN: a malformed history is bad input, exit
// 254, and the message points at the file, line and column.
func TestCheckRefusesMalformedEDN(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct{ src, want string }{
		"unclosed.edn": {"[{:process 0 :type :invoke :f :write :value 1}\n {:process 0 :type :ok :f :write :value 1]", "line 2, column 42: unexpected ']': the map opened at line 2, column 2 wants '}'"},
		"value.edn":    {"; bad value\n{:process 0, :type :invoke, :f :cas, :value [nil 2]}", "line 2, column 1: :cas wants [old new] integers, got [nil 2]"},
		"order.edn":    {"{:process 0 :type :ok :f :read :value 1}", "line 1, column 1: process 0 completes an op it never invoked"},
	} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(c.src), 0o644))
		r := runFaultline(t, time.Minute, "check", path)
		assert.Equal(t, harness.ExitBadInput, r.code, name)
		assert.Contains(t, r.stderr, path+": "+c.want, name)
	}
}

// TestCheckOutWritesReports: --out gets the visualization of the bad key,
// the plots, the timeline, a JUnit report whose failure says why, and the
// history as EDN again.
func TestCheckOutWritesReports(t *testing.T) {
	out := filepath.Join(t.TempDir(), "reports")
	r := runFaultline(t, time.Minute, "check", "--out", out, filepath.Join(ednTestdata, "independent.edn"))
	require.Equal(t, 1, r.code, r.stderr)
	for _, name := range []string{"linear/b.html", results.LatencyRawPlot, results.LatencyQuantilesPlot, results.RatePlot, results.TimelineFile, results.JUnitFile, results.EDNHistoryFile} {
		assert.FileExists(t, filepath.Join(out, name))
	}
	b, err := os.ReadFile(filepath.Join(out, results.JUnitFile))
	require.NoError(t, err)
	var doc struct {
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
		} `xml:"testsuite>testcase"`
	}
	require.NoError(t, xml.Unmarshal(b, &doc))
	assert.Equal(t, 1, doc.Failures)
	var failed []string
	for _, c := range doc.Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name+": "+c.Failure.Message)
		}
	}
	require.Len(t, failed, 1)
	assert.Contains(t, failed[0], "linearizable: 3 keys, 1 not linearizable (b)")

	again := runFaultline(t, time.Minute, "check", filepath.Join(out, results.EDNHistoryFile))
	assert.Equal(t, 1, again.code, "the EDN written by --out gives the same verdict")
}

// TestCheckAKilledRunsPrefix: a run whose harness died mid-run leaves a
// history.jsonl cut anywhere, even inside a line, with ops still in
// flight. Check judges that prefix, and gives the verdict the same ops
// give as a whole file. A bad line that is not the last is still refused.
func TestCheckAKilledRunsPrefix(t *testing.T) {
	h, err := edn.ReadHistoryFile(filepath.Join(ednTestdata, "register-valid.edn"), edn.CASRegister)
	require.NoError(t, err)
	// A faultline run records the store's revision on every ok op; the
	// imported history has none, so give them as a store would: each
	// acknowledged write moves it by one.
	rev := int64(1)
	for i := range h {
		if h[i].Type == harness.OK && h[i].Process >= 0 {
			if h[i].F != "read" {
				rev++
			}
			h[i].Revision = rev
		}
	}
	var full bytes.Buffer
	require.NoError(t, harness.WriteJSONL(&full, h))
	lines := strings.SplitAfter(full.String(), "\n")

	for cut := 2; cut < len(lines); cut += 3 {
		torn, whole := t.TempDir(), t.TempDir()
		prefix := strings.Join(lines[:cut], "")
		require.NoError(t, os.WriteFile(filepath.Join(torn, results.HistoryFile), []byte(prefix+lines[cut][:len(lines[cut])/2]), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(whole, results.HistoryFile), []byte(prefix), 0o644))
		r := runFaultline(t, time.Minute, "check", torn)
		assert.Equal(t, runFaultline(t, time.Minute, "check", whole).code, r.code, "a prefix of %d ops, torn or not", cut)
		if cut >= 8 { // by then read, write and cas have each succeeded once, as stats wants
			assert.Equal(t, 0, r.code, "a prefix of %d ops and a torn line:\n%s", cut, r.stderr)
		}
	}

	bad := t.TempDir()
	broken := strings.Join(lines[:3], "") + "{torn\n" + strings.Join(lines[3:], "")
	require.NoError(t, os.WriteFile(filepath.Join(bad, results.HistoryFile), []byte(broken), 0o644))
	r := runFaultline(t, time.Minute, "check", bad)
	assert.Equal(t, harness.ExitBadInput, r.code)
	assert.Contains(t, r.stderr, "history line 4")
}
