package results

import (
	"image/color"
	"strconv"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// Fault is a span of the test during which one fault was in force, as
// package fault reads it from the nemesis ops. The reports shade it from
// Start to Healed and label it with Label.
type Fault = fault.Window

// Faults reads the fault windows of h (see fault.Windows).
func Faults(h harness.History) []Fault { return fault.Windows(h) }

// FaultLabel names a fault of kind begun by the nemesis op p (see
// fault.Label).
func FaultLabel(kind string, p harness.Pair) string { return fault.Label(kind, p) }

// faultColor is the shade of a window in the PNG plots.
func faultColor(w Fault) color.NRGBA { return hexColor(w.Color()) }

// otherFaultColor shades what no fault kind describes.
var otherFaultColor = hexColor(fault.OtherColor)

// hexColor parses #rrggbb; anything else is the grey of unknown faults.
func hexColor(s string) color.NRGBA {
	if len(s) != 7 || s[0] != '#' {
		return color.NRGBA{R: 0xe3, G: 0xe3, B: 0xe3, A: 0xff}
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return color.NRGBA{R: 0xe3, G: 0xe3, B: 0xe3, A: 0xff}
	}
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}
