package results

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ratePanelHeight is the height of one f's panel in rate.png.
const ratePanelHeight = 3 * vg.Inch

// rate draws throughput over time: one panel per f, one line per outcome,
// in completions per second over round time buckets. An op counts when it
// completes, so a timed-out write shows where its timeout fired.
func rate(ops []completed, faults []Fault, end float64) []panel {
	width := bucketWidth(end)
	fs := functions(ops)
	if len(fs) == 0 {
		p := newPlot("Throughput: no client op completed", "ops/s", end)
		l := newLegend()
		addFaults(p, &l, faults)
		p.Y.Min, p.Y.Max = 0, 1
		p.Add(faultLabels{faults})
		return []panel{{plot: p, legend: l}}
	}
	n := max(int(math.Ceil(end/width)), 1)
	var panels []panel
	for i, f := range fs {
		counts := map[string][]float64{}
		for _, t := range outcomes {
			counts[string(t)] = make([]float64, n)
		}
		total := 0
		for _, op := range ops {
			if op.F != f {
				continue
			}
			if c, ok := counts[string(op.Type)]; ok {
				c[min(int(op.Finished.Seconds()/width), n-1)]++
				total++
			}
		}
		p := newPlot(fmt.Sprintf("Throughput of %s (%d ops), %s buckets", f, total, formatSeconds(width)), "ops/s", end)
		l := newLegend()
		addFaults(p, &l, faults)
		p.Y.Min = 0
		p.Y.Tick.Marker = plot.TickerFunc(rateTicks)
		for _, t := range outcomes {
			pts := make(plotter.XYs, n)
			for b, c := range counts[string(t)] {
				from, to := float64(b)*width, min(float64(b+1)*width, end)
				pts[b] = plotter.XY{X: (from + to) / 2, Y: c / (to - from)}
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				continue
			}
			line.LineStyle = draw.LineStyle{Color: outcomeColors[t], Width: vg.Points(1.6)}
			p.Add(line)
			l.Add(f+" "+string(t), line)
		}
		p.Y.Max = max(p.Y.Max*1.15, 1) // headroom for the fault labels
		if i < len(fs)-1 {
			p.X.Label.Text = "" // the panels share the bottom one's time axis
		}
		p.Add(faultLabels{faults})
		panels = append(panels, panel{plot: p, legend: l})
	}
	return panels
}

// rateTicks marks an ops/s axis with about five round, plainly written
// steps: 0, 10, 20 rather than 0.00, 10.00, 20.00.
func rateTicks(lo, hi float64) []plot.Tick {
	// (hi-lo)/step lies in [10, 100), so one of these multipliers always
	// leaves at most 6 steps; without 20 a range of 61 to 99 fell through
	// and got a tick per unit.
	step := math.Pow(10, math.Floor(math.Log10(max(hi-lo, 1e-9)))-1)
	for _, m := range []float64{1, 2, 5, 10, 20} {
		if (hi-lo)/(step*m) <= 6 {
			step *= m
			break
		}
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo / step); k*step <= hi; k++ {
		v := math.Round(k*step*1e6) / 1e6
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}
