package results

import (
	"image/color"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// plotterGrid is the light grid under every plot.
func plotterGrid() plot.Plotter {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 0xe8}
	g.Horizontal.Color = color.Gray{Y: 0xe8}
	return g
}

// faultBands shades the fault windows over the whole height of a plot. It
// is added first, so the data is drawn over it.
type faultBands struct{ faults []Fault }

// Plot implements plot.Plotter.
func (b faultBands) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, f := range b.faults {
		x0, x1 := trX(f.Start.Seconds()), trX(f.Healed.Seconds())
		if x1-x0 < 2 {
			x1 = x0 + 2 // a point in time still shows
		}
		band := c.ClipPolygonX([]vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
		clr := faultColor(f)
		clr.A = 0xb0
		c.FillPolygon(clr, band)
		edge := draw.LineStyle{Color: faultColor(f), Width: vg.Points(1)}
		edge.Color = darken(faultColor(f))
		c.StrokeLines(edge, c.ClipLinesX([]vg.Point{{X: x0, Y: c.Min.Y}, {X: x0, Y: c.Max.Y}})...)
	}
}

// faultLabels writes each window's label at its top left, one row per kind
// of fault so that overlapping windows of different kinds stay legible. It
// is added last, so the labels are drawn over the data.
type faultLabels struct{ faults []Fault }

// Plot implements plot.Plotter.
func (l faultLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	sty := labelStyle(9)
	lineHeight := sty.Height("Xg") + vg.Points(3)
	var kinds []string
	for _, f := range l.faults {
		if !slices.Contains(kinds, f.Legend()) {
			kinds = append(kinds, f.Legend())
		}
	}
	for _, f := range l.faults {
		row := vg.Length(slices.Index(kinds, f.Legend()))
		x := trX(f.Start.Seconds()) + vg.Points(3)
		y := c.Max.Y - (row+1)*lineHeight
		w := sty.Width(f.Label)
		if !c.ContainsX(x) {
			continue
		}
		backing := color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xd0}
		box := []vg.Point{{X: x - 1, Y: y - 2}, {X: x + w + 1, Y: y - 2}, {X: x + w + 1, Y: y + lineHeight - 3}, {X: x - 1, Y: y + lineHeight - 3}}
		c.FillPolygon(backing, box)
		c.FillText(sty, vg.Point{X: x, Y: y}, f.Label)
	}
}

// darken returns a stronger shade of c, for the edge of a band.
func darken(c color.NRGBA) color.NRGBA {
	return color.NRGBA{R: c.R / 10 * 7, G: c.G / 10 * 7, B: c.B / 10 * 7, A: 0xff}
}

// swatch is a legend thumbnail: a filled box of one colour.
type swatch struct{ color color.Color }

// Thumbnail implements plot.Thumbnailer.
func (s swatch) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(s.color, pts)
}

// addFaults shades and labels the fault windows on p and lists their kinds
// in the legend.
func addFaults(p *plot.Plot, l *plot.Legend, faults []Fault) {
	p.Add(faultBands{faults})
	var kinds []string
	for _, f := range faults {
		if !slices.Contains(kinds, f.Legend()) {
			kinds = append(kinds, f.Legend())
			l.Add("fault: "+f.Legend(), swatch{faultColor(f)})
		}
	}
}
