package results

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"

	"github.com/faultline/faultline/harness"
)

// plotDir is where TestWritePlots leaves its PNGs: a temporary directory,
// or FAULTLINE_PLOT_DIR to keep them for a person to look at.
func plotDir(t *testing.T) string {
	if dir := os.Getenv("FAULTLINE_PLOT_DIR"); dir != "" {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		return dir
	}
	return t.TempDir()
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err, path)
	return img
}

// shaded counts the rows of img crossed by a long run (80 px or more) of
// pixels tinted like a partition band (light red) or a kill band (light
// blue). Only a band makes such runs: the anti-aliased edges of dots and
// lines are a few pixels wide.
func shaded(img image.Image) (partition, kill int) {
	const long = 80
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		var runP, runK int
		var rowP, rowK bool
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			isP := r > 235 && g > 200 && g < 232 && bl > 195 && bl < 230 && r > g+15
			isK := bl > 235 && r > 195 && r < 230 && g > 210 && bl > r+15
			runP, runK = (runP+1)*b2i(isP), (runK+1)*b2i(isK)
			rowP, rowK = rowP || runP >= long, rowK || runK >= long
		}
		partition += b2i(rowP)
		kill += b2i(rowK)
	}
	return partition, kill
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestWritePlots: every plot is a PNG of the promised size, and the fault
// windows are shaded in their colours; a history without faults has no
// shading at all.
func TestWritePlots(t *testing.T) {
	dir := plotDir(t)
	h := syntheticHistory(4000, 1)
	require.NoError(t, WritePlots(dir, h))
	sizes := map[string]image.Point{
		LatencyRawPlot:       {1152, 576},
		LatencyQuantilesPlot: {1152, 576},
		RatePlot:             {1152, 864}, // three panels: read, write, cas
	}
	for name, size := range sizes {
		img := decodePNG(t, filepath.Join(dir, name))
		assert.Equal(t, size, img.Bounds().Size(), name)
		partition, kill := shaded(img)
		assert.Greater(t, partition, 100, "%s: the partition window must be shaded", name)
		assert.Greater(t, kill, 100, "%s: the kill window must be shaded", name)
	}

	calm := harness.History{}
	for _, op := range h.Client() {
		calm = append(calm, op)
	}
	calmDir := t.TempDir()
	require.NoError(t, WritePlots(calmDir, calm))
	for name := range sizes {
		partition, kill := shaded(decodePNG(t, filepath.Join(calmDir, name)))
		assert.Zero(t, partition, "%s: no fault, no shading", name)
		assert.Zero(t, kill, "%s: no fault, no shading", name)
	}
}

// TestWritePlotsOfAnEmptyHistory: a run that recorded nothing still gets
// its plots, rather than a panic on an empty axis.
func TestWritePlotsOfAnEmptyHistory(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, WritePlots(dir, nil))
	for _, name := range []string{LatencyRawPlot, LatencyQuantilesPlot, RatePlot} {
		img := decodePNG(t, filepath.Join(dir, name))
		assert.Equal(t, 1152, img.Bounds().Dx(), name)
	}
}

func TestWritePlotsReportsAnUnwritableDirectory(t *testing.T) {
	err := WritePlots(filepath.Join(t.TempDir(), "missing"), syntheticHistory(100, 2))
	require.Error(t, err)
	assert.Contains(t, err.Error(), LatencyRawPlot)
}

func TestBucketWidthAndQuantile(t *testing.T) {
	assert.Equal(t, 1.0, bucketWidth(60))
	assert.Equal(t, 0.1, bucketWidth(5))
	assert.Equal(t, 10.0, bucketWidth(600))
	assert.Equal(t, 3600.0, bucketWidth(80*3600))
	assert.Equal(t, 7200.0, bucketWidth(100*3600))
	sorted := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	assert.Equal(t, 5.0, quantile(sorted, 0.5))
	assert.Equal(t, 10.0, quantile(sorted, 0.95))
	assert.Equal(t, 10.0, quantile(sorted, 1))
	assert.Equal(t, 1.0, quantile(sorted, 0))
	assert.Equal(t, "1 s", formatSeconds(1))
	assert.Equal(t, "2m0s", formatSeconds(120))
}

// BenchmarkWritePlots20k renders the three plots of a 20,000-op history.
func BenchmarkWritePlots20k(b *testing.B) {
	h := syntheticHistory(20000, 3)
	dir := b.TempDir()
	cpu := cpuSeconds(b)
	for b.Loop() {
		if err := WritePlots(dir, h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuSeconds(b)-cpu)/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(h)), "records")
}

func TestRateTicks(t *testing.T) {
	labels := func(ticks []plot.Tick) []string {
		var out []string
		for _, tk := range ticks {
			out = append(out, tk.Label)
		}
		return out
	}
	assert.Equal(t, []string{"0", "10", "20", "30", "40", "50"}, labels(rateTicks(0, 57.5)))
	assert.Equal(t, []string{"0", "0.2", "0.4", "0.6", "0.8", "1"}, labels(rateTicks(0, 1)))
	assert.Equal(t, []string{"0", "500", "1000", "1500"}, labels(rateTicks(0, 1700)))
	assert.Equal(t, []string{"0", "20", "40", "60"}, labels(rateTicks(0, 63)), "a range of 61 to 99 once got a tick per unit")
	assert.Equal(t, []string{"0", "20", "40", "60", "80"}, labels(rateTicks(0, 99)))
}

// cpuSeconds is the CPU time this process has used, user and system: a
// figure that, unlike wall time, a busy machine does not inflate.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func TestFaultLabelsAndColoursOfEveryKind(t *testing.T) {
	op := func(f, value string) harness.Pair {
		inv := harness.Op{Process: harness.NemesisProcess, Type: harness.Invoke, F: f}
		done := harness.Op{Process: harness.NemesisProcess, Type: harness.OK, F: f, Value: []byte(value)}
		return harness.Pair{Invoke: inv, Completion: &done}
	}
	assert.Equal(t, "member-remove n2", FaultLabel("member-remove", op("member-remove", `{"node":"n2","id":"611152ee81c8b573","members":["n1","n3","n4"]}`)))
	assert.Equal(t, "crash n4", FaultLabel("crash", op("start-crash", `{"nodes":["n4"]}`)))
	seen := map[string]string{}
	for _, w := range []Fault{{Kind: "partition"}, {Kind: "kill"}, {Kind: "pause"}, {Kind: "crash"}, {Kind: "loss"}, {Kind: "bandwidth"}, {Kind: "delay"},
		{Kind: "member", Op: "member-remove", Point: true}, {Kind: "member", Op: "member-add", Point: true}} {
		c, kind := faultColor(w), w.Legend()
		assert.NotEqual(t, otherFaultColor, c, "%s must have a colour of its own", kind)
		key := string([]byte{c.R, c.G, c.B})
		assert.Empty(t, seen[key], "%s has the colour of %s", kind, seen[key])
		seen[key] = kind
	}
}
