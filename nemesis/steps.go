package nemesis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/faultline/faultline/harness"
)

// kindOf maps every op a schedule may hold to its fault kind.
var kindOf = map[string]string{
	StartPartition: "partition", StopPartition: "partition",
	KillF: "kill", StartF: "kill",
	PauseF: "pause", ResumeF: "pause",
	StartCrash: "crash", StopCrash: "crash",
	StartLoss: "loss", StopLoss: "loss",
	StartBandwidth: "bandwidth", StopBandwidth: "bandwidth",
	StartDelay: "delay", StopDelay: "delay",
	MemberRemove: "member", MemberAdd: "member",
}

// ScheduleFaults lists the fault kinds a schedule uses, in Faults order.
// A replayed schedule needs exactly these from the target and the
// kernel, whatever --nemesis said when it was drawn.
func ScheduleFaults(steps []harness.Step) []string {
	used := map[string]bool{}
	for _, s := range steps {
		used[kindOf[s.F]] = true
	}
	var out []string
	for _, k := range Faults {
		if used[k] {
			out = append(out, k)
		}
	}
	return out
}

// ValidateSchedule checks a schedule, typically a hand-edited or replayed
// test.json's, against a cluster of n nodes before anything starts: every
// op is known, times never go back, and every value decodes (unknown
// fields are errors, so a typo does not pass silently) and names only
// nodes n1..n<n>, known target choices and layouts. The error names the
// step.
func ValidateSchedule(steps []harness.Step, n int) error {
	names := NodeNames(n)
	var last time.Duration
	for i, s := range steps {
		if err := validateStep(s, n, names); err != nil {
			return fmt.Errorf("schedule step %d (%s at %v): %w", i, s.F, s.At, err)
		}
		if s.At < last {
			return fmt.Errorf("schedule step %d (%s at %v): steps must be in time order, the one before is at %v", i, s.F, s.At, last)
		}
		last = s.At
	}
	return ValidateFaults(ScheduleFaults(steps), n)
}

func validateStep(s harness.Step, n int, names []string) error {
	if _, ok := kindOf[s.F]; !ok {
		return fmt.Errorf("unknown nemesis op %q", s.F)
	}
	if s.At < 0 {
		return fmt.Errorf("negative time")
	}
	switch s.F {
	case StartPartition:
		var v partitionValue
		if err := decodeStrict(s.Value, &v); err != nil {
			return err
		}
		return ValidateLayout(v.Layout, n)
	case KillF, PauseF, StartCrash, StartLoss, StartBandwidth, StartDelay:
		var v faultValue
		if err := decodeStrict(s.Value, &v); err != nil {
			return err
		}
		return validateFaultValue(s.F, v, names)
	case MemberRemove, MemberAdd:
		var v memberValue
		if err := decodeStrict(s.Value, &v); err != nil {
			return err
		}
		if !slices.Contains(names, v.Node) {
			return fmt.Errorf("node %q is not one of n1..n%d", v.Node, n)
		}
	}
	return nil
}

func validateFaultValue(f string, v faultValue, names []string) error {
	for _, node := range v.Nodes {
		if !slices.Contains(names, node) {
			return fmt.Errorf("node %q is not one of n1..n%d", node, len(names))
		}
	}
	if len(v.Nodes) == 0 && !slices.Contains(Targets, v.Targets) {
		return fmt.Errorf("targets %q: want one of %v, or explicit nodes", v.Targets, Targets)
	}
	switch f {
	case StartLoss:
		if v.Probability < 0 || v.Probability > 1 {
			return fmt.Errorf("loss probability %v is not in [0, 1]", v.Probability)
		}
	case StartBandwidth:
		_, err := ParseRate(v.Rate)
		return err
	case StartDelay:
		if d, err := time.ParseDuration(v.Delay); err != nil || d <= 0 {
			return fmt.Errorf("delay %q is no positive duration", v.Delay)
		}
	}
	return nil
}

func decodeStrict(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return fmt.Errorf("no value")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("value %s: %w", raw, err)
	}
	return nil
}
