package results

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results/edn"
)

// TestWriteReports: every report lands in the directory, and the EDN
// history reads back as the history it was written from.
func TestWriteReports(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	h := syntheticHistory(500, 5)
	rs := harness.Results{Valid: harness.ValidTrue, Checkers: map[string]harness.Result{"stats": {Valid: harness.ValidTrue}}}
	require.NoError(t, WriteReports(dir, Report{Spec: harness.Spec{Name: "t", Target: "etcd", Nodes: 5}, History: h, Results: rs}))
	for _, name := range []string{LatencyRawPlot, LatencyQuantilesPlot, RatePlot, TimelineFile, JUnitFile, edn.HistoryFile} {
		st, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Positive(t, st.Size(), name)
	}
	back, err := edn.ReadHistoryFile(filepath.Join(dir, edn.HistoryFile), edn.CASRegister)
	require.NoError(t, err)
	assert.Equal(t, h, back)
}

// TestWriteReportsSaysWhatFailed: a directory that cannot be written is
// an error naming it.
func TestWriteReportsSaysWhatFailed(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	err := WriteReports(filepath.Join(file, "sub"), Report{})
	assert.ErrorContains(t, err, "reports")
}

// BenchmarkWriteReports20k writes every report of a 20,000-op history:
// what a run pays after its check.
func BenchmarkWriteReports20k(b *testing.B) {
	h := syntheticHistory(20000, 3)
	dir := b.TempDir()
	rs := harness.Results{Valid: harness.ValidTrue, Checkers: map[string]harness.Result{"stats": {Valid: harness.ValidTrue}}}
	cpu := cpuSeconds(b)
	for b.Loop() {
		if err := WriteReports(dir, Report{Spec: harness.Spec{Name: "bench"}, History: h, Results: rs}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuSeconds(b)-cpu)/float64(b.N), "cpu-s/op")
}
