package linearizable

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/harness"
)

// Details is what the checker reports in results.json.
type Details struct {
	// Keys is the number of keys checked.
	Keys int `json:"keys"`
	// Ops is the number of ops handed to porcupine, over all keys.
	Ops int `json:"ops"`
	// Dropped counts the ops left out: fail ops, which certainly did not
	// happen, and ops the model declined (info reads).
	Dropped int `json:"dropped"`
	// Bad lists the keys that are not linearizable, in key order.
	Bad []string `json:"bad,omitempty"`
	// Unknown lists the keys that could not be decided.
	Unknown []string `json:"unknown,omitempty"`
	// PerKey is every key's verdict, in key order.
	PerKey []KeyResult `json:"per_key"`
	// ArtifactErrors lists visualizations that could not be written. They
	// do not change the verdict.
	ArtifactErrors []string `json:"artifact_errors,omitempty"`
	// Error says why nothing was checked: the history is malformed.
	Error string `json:"error,omitempty"`
	// TookSeconds is the wall time of the whole check.
	TookSeconds float64 `json:"took_seconds"`
}

// KeyResult is the verdict on one key.
type KeyResult struct {
	Key   string        `json:"key"`
	Valid harness.Valid `json:"valid"`
	// Ops is the number of ops checked; Open of them had an open-ended
	// return (info, or never completed).
	Ops  int `json:"ops"`
	Open int `json:"open"`
	// Reason says why the key is unknown.
	Reason string `json:"reason,omitempty"`
	// File is the visualization, relative to the output directory.
	File string `json:"file,omitempty"`
	// Anomaly explains a key that is not linearizable.
	Anomaly     *Anomaly `json:"anomaly,omitempty"`
	TookSeconds float64  `json:"took_seconds"`
}

// Anomaly is porcupine's account of a key that is not linearizable: the
// longest prefix of the history it could linearize, and the ops that could
// come next but that the model refuses, one and all, in the state that
// prefix leaves.
type Anomaly struct {
	// Linearized is how many ops the longest linearizable prefix holds.
	Linearized int `json:"linearized"`
	// Tail is the end of that prefix, at most tailLength ops, in
	// linearization order.
	Tail []OpRef `json:"tail"`
	// State is the model state after the prefix.
	State string `json:"state"`
	// Stuck are the ops that could be linearized next by their times, none
	// of which the model accepts in State.
	Stuck []OpRef `json:"stuck"`
}

// OpRef names one op of the history in a report.
type OpRef struct {
	// Index is the index of the op's invocation in the history.
	Index   int             `json:"index"`
	Process harness.Process `json:"process"`
	Node    string          `json:"node,omitempty"`
	// Op is the model's description, e.g. "read -> 3".
	Op string `json:"op"`
	// Type is the completion type: ok, info, or empty if none.
	Type harness.Type `json:"type,omitempty"`
	// Call and Return are test times; Return is absent when open-ended.
	Call   time.Duration  `json:"call"`
	Return *time.Duration `json:"return,omitempty"`
}

// String renders the ref for a summary line.
func (r OpRef) String() string {
	s := fmt.Sprintf("%s (op %d, p%v", r.Op, r.Index, r.Process)
	if r.Node != "" {
		s += " on " + r.Node
	}
	if r.Type != harness.OK {
		s += ", " + string(cmp.Or(r.Type, "unfinished"))
	}
	return s + ")"
}

const (
	tailLength   = 6
	maxStuck     = 8
	maxBadListed = 10
)

// explain picks the longest partial linearization porcupine found (the
// lowest op ids on a tie, so reports are stable) and the ops that could not
// follow it.
func explain(spec porcupine.Model, ops []porcupine.Operation, info porcupine.LinearizationInfo) *Anomaly {
	var best []int
	for _, partition := range info.PartialLinearizations() {
		for _, seq := range partition {
			if len(seq) > len(best) || (len(seq) == len(best) && slices.Compare(seq, best) < 0) {
				best = seq
			}
		}
	}
	a := &Anomaly{Linearized: len(best)}
	step := spec.StepContext
	if step == nil {
		step = func(_ context.Context, state, input, output any) (bool, any) { return spec.Step(state, input, output) }
	}
	state := spec.Init()
	done := make([]bool, len(ops))
	for _, id := range best {
		_, state = step(context.Background(), state, ops[id].Input, ops[id].Output)
		done[id] = true
	}
	for _, id := range best[max(0, len(best)-tailLength):] {
		a.Tail = append(a.Tail, opRef(spec, ops[id]))
	}
	a.State = describeState(spec, state)
	// The ops that may go next are those called before every remaining
	// op has returned, as porcupine orders calls before returns.
	firstReturn := int64(openReturn)
	for id, op := range ops {
		if !done[id] {
			firstReturn = min(firstReturn, op.Return)
		}
	}
	for id, op := range ops {
		if !done[id] && op.Call <= firstReturn && len(a.Stuck) < maxStuck {
			a.Stuck = append(a.Stuck, opRef(spec, op))
		}
	}
	return a
}

func opRef(spec porcupine.Model, op porcupine.Operation) OpRef {
	m := op.Metadata.(opMeta)
	r := OpRef{Index: m.invoke.Index, Process: m.invoke.Process, Node: m.invoke.Node, Call: time.Duration(op.Call)}
	if spec.DescribeOperation != nil {
		r.Op = spec.DescribeOperation(op.Input, op.Output)
	} else {
		r.Op = fmt.Sprintf("%v -> %v", op.Input, op.Output)
	}
	if m.completion != nil {
		r.Type = m.completion.Type
	}
	if op.Return != openReturn {
		ret := time.Duration(op.Return)
		r.Return = &ret
	}
	return r
}

func describeState(spec porcupine.Model, state any) string {
	if spec.DescribeState != nil {
		return spec.DescribeState(state)
	}
	return fmt.Sprintf("%v", state)
}

// summary renders the lines a person reads first.
func (d *Details) summary() []string {
	head := fmt.Sprintf("linearizable: %d keys, %d not linearizable", d.Keys, len(d.Bad))
	if len(d.Bad) > 0 {
		head += " (" + listKeys(d.Bad) + ")"
	}
	head += fmt.Sprintf(", %d unknown", len(d.Unknown))
	if len(d.Unknown) > 0 {
		head += " (" + listKeys(d.Unknown) + ")"
	}
	lines := []string{head + fmt.Sprintf(", checked in %.1fs", d.TookSeconds)}
	listed := 0
	for _, r := range d.PerKey {
		if listed == maxBadListed {
			break
		}
		switch {
		case r.Anomaly != nil:
			listed++
			line := fmt.Sprintf("  %s: after %d linearized ops (state %s), no op can go next: ", r.Key, r.Anomaly.Linearized, r.Anomaly.State)
			var stuck []string
			for _, s := range r.Anomaly.Stuck {
				stuck = append(stuck, s.String())
			}
			line += strings.Join(stuck, "; ")
			if r.File != "" {
				line += " [" + r.File + "]"
			}
			lines = append(lines, line)
		case r.Valid == harness.ValidUnknown:
			listed++
			lines = append(lines, fmt.Sprintf("  %s: unknown, %s", r.Key, r.Reason))
		}
	}
	for _, e := range d.ArtifactErrors {
		lines = append(lines, "  "+e)
	}
	return lines
}

// listKeys joins keys for a summary line, eliding all but the first few.
func listKeys(keys []string) string {
	if len(keys) <= maxBadListed {
		return strings.Join(keys, ", ")
	}
	return strings.Join(keys[:maxBadListed], ", ") + fmt.Sprintf(", and %d more", len(keys)-maxBadListed)
}

// writeVisualization writes out/linear/<key>.html and returns its path
// relative to out.
func writeVisualization(out, key string, spec porcupine.Model, info porcupine.LinearizationInfo, annotations []porcupine.Annotation) (string, error) {
	rel := filepath.Join("linear", fileName(key)+".html")
	path := filepath.Join(out, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("visualize %s: %w", key, err)
	}
	info.AddAnnotations(annotations)
	if err := porcupine.VisualizePath(spec, info, path); err != nil {
		return "", fmt.Errorf("visualize %s: write %s: %w", key, path, err)
	}
	return rel, nil
}

// fileName makes a key safe as a file name: anything but letters, digits,
// '-', '_' and '.' becomes '_', and an empty key is "_".
func fileName(key string) string {
	if key == "" || key == "." || key == ".." {
		return "_" + key
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, key)
}
