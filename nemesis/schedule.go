package nemesis

import (
	"math/rand"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// MinMembers is the smallest raft group the member fault leaves: it never
// removes a member from a group of MinMembers or fewer. Three members
// still survive one failure; two would not.
const MinMembers = fault.MinMembers

// Options configure the faults a schedule draws from.
type Options struct {
	// Faults are the enabled kinds, names of fault.All. Empty means none.
	Faults []string
	// Nodes is the cluster size; member steps name nodes n1..nNodes.
	Nodes int
	// Layout is the --partition layout.
	Layout string
	// FaultTargets chooses, per targeted kind, the nodes it hits; a kind
	// missing from it hits one.
	FaultTargets map[string]string
	// FaultOptions are the kinds' options (fault.Kind.Options) by name;
	// a missing one takes its default.
	FaultOptions harness.Options
	// Interval is the time between two nemesis steps.
	Interval time.Duration
}

// option returns the value of a fault option, or its default.
func (o Options) option(name string) string {
	if v, ok := o.FaultOptions[name]; ok {
		return v
	}
	for _, opt := range fault.Options() {
		if opt.Name == name {
			return opt.Default
		}
	}
	return ""
}

// Schedule draws a fault schedule from r, Jepsen's way: every interval,
// from one interval in, one fault kind is toggled. Half the time a fault
// in force is stopped, otherwise a kind that may start now is started, so
// faults of different layers (a partition and a crash, say) overlap,
// while one kind alone alternates start, stop, start. Which kind, and
// every random choice a fault makes at run time (which nodes, which
// shuffle), come from r, so the same seed gives the same schedule. Steps
// at or past the time limit are not drawn: the runner's final phase heals
// whatever is still in force.
func Schedule(opts Options, timeLimit time.Duration, r *rand.Rand) []harness.Step {
	if len(opts.Faults) == 0 || opts.Interval <= 0 {
		return nil
	}
	s := &scheduler{opts: opts, inForce: map[string]bool{}, members: NodeNames(opts.Nodes)}
	var steps []harness.Step
	for at := opts.Interval; at < timeLimit; at += opts.Interval {
		if step, ok := s.next(r); ok {
			step.At = at
			steps = append(steps, step)
		}
	}
	return steps
}

// scheduler is the state a schedule assumes as it is drawn: the faults in
// force and the membership.
type scheduler struct {
	opts    Options
	inForce map[string]bool
	members []string
	removed []string
}

func (s *scheduler) next(r *rand.Rand) (harness.Step, bool) {
	var stoppable, startable []fault.Kind
	for _, name := range s.opts.Faults {
		k, ok := fault.Lookup(name)
		if !ok {
			continue
		}
		if k.Effect != fault.Instant && (s.inForce[k.Name] || (k.Effect == fault.Removed && len(s.removed) > 0)) {
			stoppable = append(stoppable, k)
		}
		if s.canStart(k) {
			startable = append(startable, k)
		}
	}
	if len(stoppable) > 0 && (len(startable) == 0 || r.Intn(2) == 0) {
		return s.stop(stoppable[r.Intn(len(stoppable))], r), true
	}
	if len(startable) > 0 {
		return s.start(startable[r.Intn(len(startable))], r), true
	}
	return harness.Step{}, false
}

// canStart says whether k may start now: a membership change only when
// nothing else is in force and a member is to spare; an instant one (an
// admin call) whenever no member is removed; any other kind only when no
// member is removed and no kind of its layer is in force.
func (s *scheduler) canStart(k fault.Kind) bool {
	if k.Effect == fault.Instant {
		// A point in time: it overlaps anything but a membership change.
		return len(s.removed) == 0
	}
	if k.Effect == fault.Removed {
		for name, on := range s.inForce {
			if on && name != k.Name {
				return false
			}
		}
		return len(s.members) > MinMembers
	}
	if s.inForce[k.Name] || len(s.removed) > 0 {
		return false
	}
	for name, on := range s.inForce {
		if other, _ := fault.Lookup(name); on && other.Layer == k.Layer {
			return false
		}
	}
	return true
}

func (s *scheduler) start(k fault.Kind, r *rand.Rand) harness.Step {
	seed := r.Int63()
	if k.Effect == fault.Removed {
		node := s.members[r.Intn(len(s.members))]
		s.members = without(s.members, []string{node})
		s.removed = append(s.removed, node)
		return harness.Step{F: k.Start, Value: harness.MustValue(memberValue{Node: node})}
	}
	if k.Effect != fault.Instant {
		s.inForce[k.Name] = true
	}
	v := faultValue{Seed: seed}
	if k.Targeted {
		v.Targets = s.targets(k.Name)
	}
	return harness.Step{F: k.Start, Value: harness.MustValue(injectors[k.Name].draw(v, s.opts))}
}

func (s *scheduler) stop(k fault.Kind, r *rand.Rand) harness.Step {
	if k.Effect == fault.Removed {
		node := s.removed[r.Intn(len(s.removed))]
		s.removed = without(s.removed, []string{node})
		s.members = append(s.members, node)
		return harness.Step{F: k.Stop, Value: harness.MustValue(memberValue{Node: node})}
	}
	s.inForce[k.Name] = false
	return harness.Step{F: k.Stop}
}

// targets is the target choice of kind.
func (s *scheduler) targets(kind string) string {
	if t := s.opts.FaultTargets[kind]; t != "" {
		return t
	}
	return "one"
}
