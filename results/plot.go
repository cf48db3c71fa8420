package results

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/faultline/faultline/harness"
)

// Plot file names inside a run directory.
const (
	LatencyRawPlot       = "latency-raw.png"
	LatencyQuantilesPlot = "latency-quantiles.png"
	RatePlot             = "rate.png"
)

// plotDPI is the resolution of every PNG: a 12 in plot is 1152 px wide.
const plotDPI = 96

// legendWidth is the strip on the right of each plot that holds its
// legend, so that the legend never hides data or fault labels.
const legendWidth = 1.9 * vg.Inch

// outcomeColors colour ops by their completion type, the same in every plot
// and in the timeline.
var outcomeColors = map[harness.Type]color.NRGBA{
	harness.OK:   {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	harness.Fail: {R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	harness.Info: {R: 0xff, G: 0x8c, B: 0x00, A: 0xff},
}

// outcomes is the order outcomes are drawn and listed in: the rarer, more
// telling ones last, so they are drawn on top.
var outcomes = []harness.Type{harness.OK, harness.Info, harness.Fail}

// completed is one client op with its completion: the points of every plot.
type completed struct {
	F        string
	Type     harness.Type
	Invoked  time.Duration
	Finished time.Duration
}

// Latency is how long the op took.
func (c completed) Latency() time.Duration { return c.Finished - c.Invoked }

// completedOps lists the client ops that completed, in invocation order. An
// op the harness never saw complete has no latency and is left out.
func completedOps(h harness.History) []completed {
	var out []completed
	for _, p := range h.Client().Pairs() {
		if p.Completion == nil {
			continue
		}
		out = append(out, completed{F: p.Invoke.F, Type: p.Completion.Type, Invoked: p.Invoke.Time, Finished: p.Completion.Time})
	}
	return out
}

// functions lists the fs of ops in a stable order: read, write and cas
// first, as the register knows them, then any others by name.
func functions(ops []completed) []string {
	seen := map[string]bool{}
	var fs []string
	for _, op := range ops {
		if !seen[op.F] {
			seen[op.F] = true
			fs = append(fs, op.F)
		}
	}
	rank := func(f string) int {
		if i := slices.Index([]string{"read", "write", "cas"}, f); i >= 0 {
			return i
		}
		return 3
	}
	slices.SortFunc(fs, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	})
	return fs
}

// span is the time the plots cover: from 0 to the last record, at least
// one second so that an empty history still draws.
func span(h harness.History) float64 {
	end := time.Second
	if len(h) > 0 {
		end = max(end, h[len(h)-1].Time)
	}
	return end.Seconds()
}

// newPlot returns a plot with faultline's common look: a title, a time axis
// over [0, end] seconds and a y label.
func newPlot(title, ylabel string, end float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 14
	p.X.Label.Text = "time since the test started (s)"
	p.Y.Label.Text = ylabel
	p.X.Min, p.X.Max = 0, end
	p.X.Tick.Marker = plot.TickerFunc(timeTicks)
	p.Add(plotterGrid())
	return p
}

// timeTicks marks a seconds axis with about ten round, labelled steps.
func timeTicks(lo, hi float64) []plot.Tick {
	step := 3600.0
	for _, s := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800} {
		if (hi-lo)/s <= 12 {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo / step); k*step <= hi+step/1e6; k++ {
		v := math.Round(k*step*1000) / 1000
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}

// labelStyle is the text style of fault labels and legends.
func labelStyle(size vg.Length) text.Style {
	return text.Style{
		Color:   color.NRGBA{R: 0x33, G: 0x33, B: 0x33, A: 0xff},
		Font:    font.From(plot.DefaultFont, size),
		XAlign:  draw.XLeft,
		YAlign:  draw.YBottom,
		Handler: plot.DefaultTextHandler,
	}
}

// panel is one plot of a figure with the legend drawn beside it.
type panel struct {
	plot   *plot.Plot
	legend plot.Legend
}

// newLegend returns an empty legend for the strip beside a plot.
func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle = labelStyle(10)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = 0.3 * vg.Inch
	l.Padding = vg.Points(4)
	return l
}

// savePNG draws panels stacked top to bottom, each with its legend in a
// strip on its right, into a PNG of the given size.
func savePNG(path string, width, height vg.Length, panels ...panel) error {
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(plotDPI), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	rowHeight := height / vg.Length(len(panels))
	for i, pn := range panels {
		top := vg.Length(i) * rowHeight
		row := draw.Crop(dc, 0, 0, height-top-rowHeight, -top)
		pn.plot.Draw(draw.Crop(row, 0, -legendWidth, 0, 0))
		legendArea := draw.Crop(row, width-legendWidth+0.1*vg.Inch, 0, 0, -0.35*vg.Inch)
		pn.legend.Draw(legendArea)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
	}
	_, werr := vgimg.PngCanvas{Canvas: img}.WriteTo(f)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
	}
	return nil
}

// WritePlots writes latency-raw.png, latency-quantiles.png and rate.png of h
// into dir, each with the fault windows shaded and labelled. It fails only
// when a file cannot be written.
func WritePlots(dir string, h harness.History) error {
	ops := completedOps(h)
	faults := Faults(h)
	end := span(h)
	rates := rate(ops, faults, end)
	return errors.Join(
		savePNG(filepath.Join(dir, LatencyRawPlot), 12*vg.Inch, 6*vg.Inch, latencyRaw(ops, faults, end)),
		savePNG(filepath.Join(dir, LatencyQuantilesPlot), 12*vg.Inch, 6*vg.Inch, latencyQuantiles(ops, faults, end)),
		savePNG(filepath.Join(dir, RatePlot), 12*vg.Inch, vg.Length(len(rates))*ratePanelHeight, rates...),
	)
}
