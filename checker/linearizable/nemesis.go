package linearizable

import (
	"fmt"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// describeFault renders what a nemesis op did, raw: its f, its completion
// value (else its invocation value) and any error. The porcupine pages show
// it in a window's details, beside fault.Label's short name.
func describeFault(p harness.Pair) string {
	value := p.Invoke.Value
	var status string
	if c := p.Completion; c != nil {
		if len(c.Value) > 0 {
			value = c.Value
		}
		if c.Type != harness.OK {
			status = string(c.Type)
			if c.Error != "" {
				status += ": " + c.Error
			}
		}
	} else {
		status = "never completed"
	}
	parts := []string{p.Invoke.F}
	if len(value) > 0 && string(value) != "null" {
		parts = append(parts, string(value))
	}
	if status != "" {
		parts = append(parts, "("+status+")")
	}
	return strings.Join(parts, " ")
}

// nemesisAnnotations renders the fault windows of h (fault.Windows) as
// porcupine annotations, one row (tag) per kind of fault, shaded in the
// kind's colour.
func nemesisAnnotations(h harness.History) []porcupine.Annotation {
	var out []porcupine.Annotation
	for _, w := range fault.Windows(h) {
		out = append(out, porcupine.Annotation{
			Tag:             "nemesis " + w.Legend(),
			Start:           int64(w.Start),
			End:             int64(w.Healed),
			Description:     w.Legend(),
			Details:         fmt.Sprintf("%s, %.3fs to %.3fs", describeFault(w.Began), seconds(int64(w.Start)), seconds(int64(w.Healed))),
			BackgroundColor: w.Color(),
		})
	}
	return out
}

func seconds(ns int64) float64 { return float64(ns) / 1e9 }
