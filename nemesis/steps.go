package nemesis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// ScheduleFaults lists the fault kinds a schedule uses, in fault.All
// order. A replayed schedule needs exactly these from the target and the
// kernel, whatever --nemesis said when it was drawn.
func ScheduleFaults(steps []harness.Step) []string {
	used := map[string]bool{}
	for _, s := range steps {
		if k, edge := fault.Of(s.F); edge == fault.Opens || edge == fault.Closes {
			used[k.Name] = true
		}
	}
	var out []string
	for _, k := range fault.All {
		if used[k.Name] {
			out = append(out, k.Name)
		}
	}
	return out
}

// ValidateSchedule checks a schedule, typically a hand-edited or replayed
// test.json's, against a cluster of n nodes before anything starts: every
// op is one the nemesis performs, times never go back, every value decodes
// (unknown fields are errors, so a typo does not pass silently) and names
// only nodes n1..n<n>, known target choices and layouts, and the steps
// make sense in order: no fault stopped that is not in force, none started
// twice, no two faults of one layer at once, no member removed that is not
// one or added that was not removed, and never fewer than MinMembers. The
// error names the step.
func ValidateSchedule(steps []harness.Step, n int) error {
	names := NodeNames(n)
	var last time.Duration
	for i, s := range steps {
		if err := validateStep(s, names); err != nil {
			return fmt.Errorf("schedule step %d (%s at %v): %w", i, s.F, s.At, err)
		}
		if s.At < last {
			return fmt.Errorf("schedule step %d (%s at %v): steps must be in time order, the one before is at %v", i, s.F, s.At, last)
		}
		last = s.At
	}
	if err := ValidateFaults(ScheduleFaults(steps), n); err != nil {
		return err
	}
	order := newStepOrder(names)
	for i, s := range steps {
		if err := order.apply(s); err != nil {
			return fmt.Errorf("schedule step %d (%s at %v): %w", i, s.F, s.At, err)
		}
	}
	return nil
}

func validateStep(s harness.Step, names []string) error {
	k, inj, starts, err := injectorOf(s.F)
	if err != nil {
		return err
	}
	if s.At < 0 {
		return fmt.Errorf("negative time")
	}
	if starts || k.Effect == fault.Removed {
		return inj.check(s.Value, names)
	}
	if len(s.Value) > 0 && string(s.Value) != "null" {
		return fmt.Errorf("a %s step takes no value, got %s", s.F, harness.Shorten(string(s.Value), 60))
	}
	return nil
}

// stepOrder follows what a schedule leaves in force, step by step, to
// refuse steps that make no sense where they stand.
type stepOrder struct {
	inForce map[string]bool
	members []string
	removed []string
}

func newStepOrder(names []string) *stepOrder {
	return &stepOrder{inForce: map[string]bool{}, members: slices.Clone(names)}
}

func (o *stepOrder) apply(s harness.Step) error {
	k, edge := fault.Of(s.F)
	if k.Effect == fault.Removed {
		var v memberValue
		_ = json.Unmarshal(s.Value, &v)
		if edge == fault.Opens {
			switch {
			case !slices.Contains(o.members, v.Node):
				return fmt.Errorf("%s is not a member here (members: %v)", v.Node, o.members)
			case len(o.members)-1 < MinMembers:
				return fmt.Errorf("removing %s would leave %d members; the member fault never goes below %d", v.Node, len(o.members)-1, MinMembers)
			}
			o.members, o.removed = without(o.members, []string{v.Node}), append(o.removed, v.Node)
			return nil
		}
		if !slices.Contains(o.removed, v.Node) {
			return fmt.Errorf("%s was not removed, so it cannot be added back", v.Node)
		}
		o.removed, o.members = without(o.removed, []string{v.Node}), append(o.members, v.Node)
		return nil
	}
	if k.Effect == fault.Instant {
		return nil
	}
	if edge == fault.Closes {
		if !o.inForce[k.Name] {
			return fmt.Errorf("it stops a %s fault that is not in force", k.Name)
		}
		o.inForce[k.Name] = false
		return nil
	}
	if o.inForce[k.Name] {
		return fmt.Errorf("a %s fault is already in force: stop it first", k.Name)
	}
	for name, on := range o.inForce {
		if other, _ := fault.Lookup(name); on && other.Layer == k.Layer {
			return fmt.Errorf("%s and %s are both %s faults, which never overlap (they share what they change)", name, k.Name, k.Layer)
		}
	}
	o.inForce[k.Name] = true
	return nil
}

// ValidateFaults checks fault kinds against the cluster size, without a
// cluster: each kind's MinNodes (member needs a node to spare above
// MinMembers).
func ValidateFaults(faults []string, nodes int) error {
	for _, name := range faults {
		k, ok := fault.Lookup(name)
		if !ok {
			return fmt.Errorf("unknown fault %q", name)
		}
		if nodes < k.MinNodes {
			if k.Effect == fault.Removed {
				return fmt.Errorf("fault %s needs at least %d nodes: it never shrinks the cluster below %d members, have %d", k.Name, k.MinNodes, MinMembers, nodes)
			}
			return fmt.Errorf("fault %s needs at least %d nodes, have %d", k.Name, k.MinNodes, nodes)
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
		return fmt.Errorf("value %s: %w", harness.Shorten(string(raw), 80), err)
	}
	if d.More() {
		return fmt.Errorf("value %s: more than one JSON value", harness.Shorten(string(raw), 80))
	}
	return nil
}
