package results

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// TimelineFile is the name of the timeline page inside a run directory.
const TimelineFile = "timeline.html"

// MaxTimelineOps bounds the ops a timeline draws: a browser stays
// responsive with this many boxes. A longer history is cut, and the page
// says how much it shows.
const MaxTimelineOps = 25000

// Timeline geometry, in CSS pixels.
const (
	timelineColumn   = 96      // width of one process column
	timelineMinBox   = 14      // an op is never thinner than this, so its text shows
	timelineMaxPixel = 1200000 // the page is never taller than this
)

//go:embed timeline.gohtml
var timelineSource string

var timelineTemplate = template.Must(template.New("timeline").Parse(timelineSource))

// timelinePage is what the template draws.
type timelinePage struct {
	Title   string
	Shown   int
	Total   int
	Height  int
	Width   int
	Columns []timelineColumnHead
	Ticks   []timelineTick
	Faults  []timelineFault
	Boxes   []timelineBox
	Scale   string
}

// ColumnWidth is the width of a process column.
func (timelinePage) ColumnWidth() int { return timelineColumn }

// BoxWidth is the width of an op's box inside its column.
func (timelinePage) BoxWidth() int { return timelineColumn - 6 }

type timelineColumnHead struct {
	Left int
	Name string
}

type timelineTick struct {
	Top   int
	Label string
}

type timelineFault struct {
	Top, Height int
	Color       template.CSS
	Label       string
}

type timelineBox struct {
	Left, Top, Height int
	Class             string
	Text              string
	Details           string
}

// WriteTimeline writes timeline.html of h to w: one column per process
// (the nemesis first), each op a box from its invocation to its
// completion, coloured by outcome, with the fault windows as bands behind
// them. Hovering over a box shows the op's f, key, value, type, error,
// node and latency. The page is self-contained: no script, style or font
// is fetched from anywhere.
func WriteTimeline(w io.Writer, title string, h harness.History) error {
	if err := timelineTemplate.Execute(w, layoutTimeline(title, h)); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	return nil
}

// layoutTimeline places every op of h on the page.
func layoutTimeline(title string, h harness.History) timelinePage {
	pairs := h.Pairs()
	page := timelinePage{Title: title, Total: len(pairs)}
	if len(pairs) > MaxTimelineOps {
		pairs = pairs[:MaxTimelineOps]
	}
	page.Shown = len(pairs)
	end := time.Second
	if len(h) > 0 {
		end = max(end, h[len(h)-1].Time)
	}
	perSecond := timelineScale(pairs, end)
	px := func(d time.Duration) int { return int(math.Round(d.Seconds() * perSecond)) }
	page.Height = px(end) + 40
	page.Scale = fmt.Sprintf("%.0f px per second", perSecond)

	var processes []harness.Process
	seen := map[harness.Process]bool{}
	for _, p := range pairs {
		if !seen[p.Invoke.Process] {
			seen[p.Invoke.Process] = true
			processes = append(processes, p.Invoke.Process)
		}
	}
	slices.Sort(processes) // the nemesis is -1, so it comes first
	column := map[harness.Process]int{}
	for i, p := range processes {
		column[p] = i
		name := "process " + p.String()
		if p == harness.NemesisProcess {
			name = "nemesis"
		}
		page.Columns = append(page.Columns, timelineColumnHead{Left: i * timelineColumn, Name: name})
	}
	page.Width = max(len(processes), 1) * timelineColumn

	for _, t := range timelineTicks(end.Seconds(), perSecond) {
		page.Ticks = append(page.Ticks, timelineTick{Top: px(time.Duration(t.Value * float64(time.Second))), Label: t.Label + " s"})
	}
	for _, f := range Faults(h) {
		c := faultColor(f)
		page.Faults = append(page.Faults, timelineFault{
			Top: px(f.Start), Height: max(px(f.Healed)-px(f.Start), 2),
			Color: template.CSS(fmt.Sprintf("rgba(%d,%d,%d,0.45)", c.R, c.G, c.B)),
			Label: fmt.Sprintf("%s  (%.3f s to %.3f s)", f.Label, f.Start.Seconds(), f.Healed.Seconds()),
		})
	}
	for _, p := range pairs {
		finished := end
		class := "open"
		if p.Completion != nil {
			finished, class = p.Completion.Time, string(p.Completion.Type)
		}
		top := px(p.Invoke.Time)
		height := max(px(finished)-top, timelineMinBox)
		page.Boxes = append(page.Boxes, timelineBox{
			Left: column[p.Invoke.Process] * timelineColumn, Top: top, Height: height,
			Class: class, Text: opText(p), Details: opDetails(p),
		})
	}
	return page
}

// timelineScale picks pixels per second so that the typical gap between
// one process's invocations is about 26 px, within sane bounds, and the
// whole page stays under timelineMaxPixel tall.
func timelineScale(pairs []harness.Pair, end time.Duration) float64 {
	last := map[harness.Process]time.Duration{}
	var gaps []float64
	for _, p := range pairs {
		if t, ok := last[p.Invoke.Process]; ok && p.Invoke.IsClient() {
			gaps = append(gaps, (p.Invoke.Time - t).Seconds())
		}
		last[p.Invoke.Process] = p.Invoke.Time
	}
	perSecond := 100.0
	if len(gaps) > 0 {
		sort.Float64s(gaps)
		if median := gaps[len(gaps)/2]; median > 0 {
			perSecond = 26 / median
		}
	}
	perSecond = min(max(perSecond, 20), 20000)
	return min(perSecond, timelineMaxPixel/max(end.Seconds(), 1e-3))
}

// timelineTicks marks the time axis about every 100 px.
func timelineTicks(end, perSecond float64) []plot.Tick {
	step := 3600.0
	for _, s := range []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 300, 600} {
		if s*perSecond >= 100 {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	for k := 0.0; k*step <= end; k++ {
		v := math.Round(k*step*1000) / 1000
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}

// opText is the short label inside a box: "write r1 3", "read r1 null",
// "cas r2 [1,2]", or for the nemesis what a fault hit: "kill n3".
func opText(p harness.Pair) string {
	if !p.Invoke.IsClient() {
		return fault.Label(p.Invoke.F, p)
	}
	value := p.Invoke.Value
	if c := p.Completion; c != nil && p.Invoke.F == "read" && c.Type == harness.OK {
		value = c.Value
	}
	parts := []string{p.Invoke.F}
	if p.Invoke.Key != "" {
		parts = append(parts, p.Invoke.Key)
	}
	if len(value) > 0 {
		parts = append(parts, harness.Shorten(string(value), 24))
	}
	return strings.Join(parts, " ")
}

// opDetails is the text shown when hovering over a box.
func opDetails(p harness.Pair) string {
	inv := p.Invoke
	var b strings.Builder
	fmt.Fprintf(&b, "process %v  %s", inv.Process, inv.F)
	if inv.Key != "" {
		fmt.Fprintf(&b, "  key %s", inv.Key)
	}
	if len(inv.Value) > 0 {
		fmt.Fprintf(&b, "\nvalue %s", harness.Shorten(string(inv.Value), 200))
	}
	if inv.Node != "" {
		fmt.Fprintf(&b, "\nnode %s", inv.Node)
	}
	fmt.Fprintf(&b, "\ninvoked at %.6f s (op %d)", inv.Time.Seconds(), inv.Index)
	c := p.Completion
	if c == nil {
		b.WriteString("\nnever completed")
		return b.String()
	}
	fmt.Fprintf(&b, "\ntype %s after %v (op %d)", c.Type, (c.Time - inv.Time).Round(time.Microsecond), c.Index)
	if len(c.Value) > 0 && string(c.Value) != string(inv.Value) {
		fmt.Fprintf(&b, "\nresult %s", harness.Shorten(string(c.Value), 200))
	}
	if c.Error != "" {
		fmt.Fprintf(&b, "\nerror %s", harness.Shorten(c.Error, 300))
	}
	return b.String()
}
