package results

import (
	"image/color"
	"math"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// minLatencyMs is the floor of the log-scale latency axis: a faster op is
// drawn on the floor, since a log scale has no zero.
const minLatencyMs = 0.01

// shapes gives each f its glyph: read, write and cas as the register knows
// them, then the rest in order.
var knownShapes = map[string]draw.GlyphDrawer{
	"read":  draw.CircleGlyph{},
	"write": draw.PyramidGlyph{},
	"cas":   draw.BoxGlyph{},
}

var spareShapes = []draw.GlyphDrawer{draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}}

func shapes(fs []string) map[string]draw.GlyphDrawer {
	out := map[string]draw.GlyphDrawer{}
	spare := 0
	for _, f := range fs {
		if s, ok := knownShapes[f]; ok {
			out[f] = s
			continue
		}
		out[f] = spareShapes[spare%len(spareShapes)]
		spare++
	}
	return out
}

func latencyMs(d time.Duration) float64 {
	return max(minLatencyMs, float64(d)/float64(time.Millisecond))
}

// logLatencyAxis makes p's y axis a log scale over the latencies given,
// in milliseconds.
func logLatencyAxis(p *plot.Plot, lo, hi float64) {
	if lo > hi {
		lo, hi = 1, 1000
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.TickerFunc(latencyTicks)
	p.Y.Min = math.Pow(10, math.Floor(math.Log10(max(lo, minLatencyMs))))
	p.Y.Max = math.Pow(10, math.Ceil(math.Log10(max(hi, minLatencyMs*10))))
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = p.Y.Min * 10
	}
}

// latencyTicks marks every decade of a millisecond axis with a readable
// label ("0.1 ms", "10 ms", "1 s") and the steps between with minor ticks.
func latencyTicks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := int(math.Floor(math.Log10(lo))); e <= int(math.Ceil(math.Log10(hi))); e++ {
		decade := math.Pow(10, float64(e))
		ticks = append(ticks, plot.Tick{Value: decade, Label: formatMs(decade)})
		for i := 2; i < 10; i++ {
			ticks = append(ticks, plot.Tick{Value: decade * float64(i)})
		}
	}
	return ticks
}

// formatMs renders a latency in milliseconds as a person says it.
func formatMs(ms float64) string {
	if ms >= 1000 {
		return strconv.FormatFloat(ms/1000, 'f', -1, 64) + " s"
	}
	return strconv.FormatFloat(ms, 'f', -1, 64) + " ms"
}

// latencyRaw draws every completed op as a dot at its invocation time and
// latency, coloured by outcome and shaped by f.
func latencyRaw(ops []completed, faults []Fault, end float64) panel {
	p := newPlot("Latency of every op", "latency (log scale)", end)
	l := newLegend()
	addFaults(p, &l, faults)
	fs := functions(ops)
	shape := shapes(fs)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range outcomes {
		for _, f := range fs {
			var pts plotter.XYs
			for _, op := range ops {
				if op.Type == t && op.F == f {
					ms := latencyMs(op.Latency())
					pts = append(pts, plotter.XY{X: op.Invoked.Seconds(), Y: ms})
					lo, hi = min(lo, ms), max(hi, ms)
				}
			}
			if len(pts) == 0 {
				continue
			}
			s, err := plotter.NewScatter(pts)
			if err != nil {
				continue // only NaN or Inf, which durations never are
			}
			clr := outcomeColors[t]
			clr.A = 0xc0
			s.GlyphStyle = draw.GlyphStyle{Color: clr, Radius: vg.Points(1.8), Shape: shape[f]}
			p.Add(s)
		}
	}
	logLatencyAxis(p, lo, hi)
	for _, t := range outcomes {
		l.Add(string(t), glyphThumb{draw.GlyphStyle{Color: outcomeColors[t], Radius: vg.Points(3), Shape: draw.CircleGlyph{}}})
	}
	for _, f := range fs {
		l.Add(f, glyphThumb{draw.GlyphStyle{Color: color.Gray{Y: 0x55}, Radius: vg.Points(3), Shape: shape[f]}})
	}
	p.Add(faultLabels{faults})
	return panel{plot: p, legend: l}
}

// quantileLines are the quantiles of latency-quantiles.png, with colours.
var quantileLines = []struct {
	name  string
	q     float64
	color color.NRGBA
}{
	{"p50", 0.50, color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
	{"p95", 0.95, color.NRGBA{R: 0x9c, G: 0x4f, B: 0xd6, A: 0xff}},
	{"p99", 0.99, color.NRGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}},
	{"max", 1.00, color.NRGBA{R: 0x33, G: 0x33, B: 0x33, A: 0xff}},
}

// bucketWidth picks a round bucket width giving at most about 80 buckets
// over end seconds.
func bucketWidth(end float64) float64 {
	for _, w := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600} {
		if end/w <= 80 {
			return w
		}
	}
	return math.Ceil(end/80/3600) * 3600
}

// quantile returns the q-quantile of sorted values by the nearest rank.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// latencyQuantiles draws p50, p95, p99 and max latency of the ops invoked
// in each time bucket, every outcome included: a timeout is a latency too.
func latencyQuantiles(ops []completed, faults []Fault, end float64) panel {
	width := bucketWidth(end)
	p := newPlot("Latency quantiles, "+formatSeconds(width)+" buckets", "latency (log scale)", end)
	l := newLegend()
	addFaults(p, &l, faults)
	buckets := make([][]float64, int(end/width)+1)
	for _, op := range ops {
		i := min(int(op.Invoked.Seconds()/width), len(buckets)-1)
		buckets[i] = append(buckets[i], latencyMs(op.Latency()))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	lines := make([]plotter.XYs, len(quantileLines))
	for i, b := range buckets {
		if len(b) == 0 {
			continue
		}
		slices.Sort(b)
		lo, hi = min(lo, b[0]), max(hi, b[len(b)-1])
		x := min((float64(i)+0.5)*width, end)
		for j, ql := range quantileLines {
			lines[j] = append(lines[j], plotter.XY{X: x, Y: quantile(b, ql.q)})
		}
	}
	logLatencyAxis(p, lo, hi)
	for j, ql := range quantileLines {
		if len(lines[j]) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(lines[j])
		if err != nil {
			continue
		}
		line.LineStyle = draw.LineStyle{Color: ql.color, Width: vg.Points(1.5)}
		if ql.name == "max" { // dashed, so a p99 equal to it still shows
			line.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(4)}
		}
		points.GlyphStyle = draw.GlyphStyle{Color: ql.color, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
		p.Add(line, points)
		l.Add(ql.name, line, points)
	}
	p.Add(faultLabels{faults})
	return panel{plot: p, legend: l}
}

// glyphThumb is a legend thumbnail of one glyph.
type glyphThumb struct{ style draw.GlyphStyle }

// Thumbnail implements plot.Thumbnailer.
func (g glyphThumb) Thumbnail(c *draw.Canvas) {
	c.DrawGlyph(g.style, c.Center())
}

// formatSeconds renders a bucket width: "1 s", "0.5 s", "2 min".
func formatSeconds(s float64) string {
	if s >= 60 && math.Mod(s, 60) == 0 {
		return time.Duration(s * float64(time.Second)).String()
	}
	return strconv.FormatFloat(s, 'f', -1, 64) + " s"
}
