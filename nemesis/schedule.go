package nemesis

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// Faults lists every --nemesis fault kind, in --help order.
var Faults = []string{"partition", "kill", "pause", "crash", "loss", "bandwidth", "delay", "member"}

// Nemesis op functions. Every fault but member has a start and a stop; the
// pair bounds a fault window, which is what the checkers shade and
// measure. The names follow Jepsen's where Jepsen has one (kill/start,
// pause/resume); the others are start-<kind>/stop-<kind>, which the
// checkers read as a window of that kind. Member steps are points: each
// one changes the membership for good.
const (
	StartPartition = "start-partition"
	StopPartition  = "stop-partition"
	KillF          = "kill"
	StartF         = "start"
	PauseF         = "pause"
	ResumeF        = "resume"
	StartCrash     = "start-crash"
	StopCrash      = "stop-crash"
	StartLoss      = "start-loss"
	StopLoss       = "stop-loss"
	StartBandwidth = "start-bandwidth"
	StopBandwidth  = "stop-bandwidth"
	StartDelay     = "start-delay"
	StopDelay      = "stop-delay"
	MemberRemove   = "member-remove"
	MemberAdd      = "member-add"
	HealF          = "heal"
)

// startOf and stopOf map each windowed fault kind to its start and stop
// ops.
var (
	startOf = map[string]string{"partition": StartPartition, "kill": KillF, "pause": PauseF, "crash": StartCrash, "loss": StartLoss, "bandwidth": StartBandwidth, "delay": StartDelay}
	stopOf  = map[string]string{"partition": StopPartition, "kill": StartF, "pause": ResumeF, "crash": StopCrash, "loss": StopLoss, "bandwidth": StopBandwidth, "delay": StopDelay}
)

// layer groups the faults that may not be in force together: at most one
// network fault (they share the iptables chain and the root qdisc) and
// at most one process fault (a paused node must not also be killed)
// overlap. Membership changes overlap nothing, so that no member step can
// cost the quorum.
var layer = map[string]string{
	"partition": "network", "loss": "network", "bandwidth": "network", "delay": "network",
	"kill": "process", "pause": "process", "crash": "process",
	"member": "member",
}

// Options configure the faults a schedule draws from.
type Options struct {
	// Faults are the enabled kinds, a subset of Faults. Empty means none.
	Faults []string
	// Nodes is the cluster size; member steps name nodes n1..nNodes.
	Nodes int
	// Layout is the --partition layout.
	Layout string
	// KillTargets chooses which nodes a kill hits: one of Targets. It
	// wins over FaultTargets["kill"].
	KillTargets string
	// KillCount, when > 0, kills exactly that many nodes instead.
	KillCount int
	// FaultTargets chooses, per kind, the nodes a kill, pause, crash,
	// loss, bandwidth or delay hits; a kind missing from it hits one.
	FaultTargets map[string]string
	// LossProbability is the chance a loss fault drops a packet.
	LossProbability float64
	// Bandwidth is a bandwidth fault's rate, in tc's units.
	Bandwidth string
	// Delay is the latency a delay fault adds.
	Delay time.Duration
	// Interval is the time between two nemesis steps.
	Interval time.Duration
}

// ParseFaults parses a --nemesis value: "none" or a comma-separated subset
// of Faults.
func ParseFaults(s string) ([]string, error) {
	if s == "none" || s == "" {
		return nil, nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(Faults, f) {
			return nil, fmt.Errorf("unknown fault %q: want none, or a comma-separated list of %s", f, strings.Join(Faults, ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// ValidateFaults checks the faults against the cluster size, without a
// cluster: member needs a node to spare above MinMembers.
func ValidateFaults(faults []string, nodes int) error {
	if slices.Contains(faults, "member") && nodes <= MinMembers {
		return fmt.Errorf("fault member needs at least %d nodes: it never shrinks the cluster below %d members, have %d", MinMembers+1, MinMembers, nodes)
	}
	return nil
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
	var stoppable, startable []string
	for _, k := range s.opts.Faults {
		if s.inForce[k] || (k == "member" && len(s.removed) > 0) {
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

func (s *scheduler) canStart(kind string) bool {
	if kind == "member" {
		for k, on := range s.inForce {
			if on && k != "member" {
				return false
			}
		}
		return len(s.members) > MinMembers
	}
	if s.inForce[kind] || len(s.removed) > 0 {
		return false
	}
	for k, on := range s.inForce {
		if on && layer[k] == layer[kind] {
			return false
		}
	}
	return true
}

func (s *scheduler) start(kind string, r *rand.Rand) harness.Step {
	seed := r.Int63()
	if kind == "member" {
		node := s.members[r.Intn(len(s.members))]
		s.members = without(s.members, []string{node})
		s.removed = append(s.removed, node)
		return harness.Step{F: MemberRemove, Value: harness.MustValue(memberValue{Node: node})}
	}
	s.inForce[kind] = true
	v := faultValue{Targets: s.targets(kind), Seed: seed}
	switch kind {
	case "partition":
		return harness.Step{F: StartPartition, Value: harness.MustValue(partitionValue{Layout: s.opts.Layout, Seed: seed})}
	case "kill":
		v.Count = s.opts.KillCount
	case "loss":
		v.Probability = s.opts.LossProbability
	case "bandwidth":
		v.Rate = s.opts.Bandwidth
	case "delay":
		v.Delay = s.opts.Delay.String()
	}
	return harness.Step{F: startOf[kind], Value: harness.MustValue(v)}
}

func (s *scheduler) stop(kind string, r *rand.Rand) harness.Step {
	if kind == "member" {
		node := s.removed[r.Intn(len(s.removed))]
		s.removed = without(s.removed, []string{node})
		s.members = append(s.members, node)
		return harness.Step{F: MemberAdd, Value: harness.MustValue(memberValue{Node: node})}
	}
	s.inForce[kind] = false
	return harness.Step{F: stopOf[kind]}
}

// targets is the target choice of kind.
func (s *scheduler) targets(kind string) string {
	if kind == "kill" && s.opts.KillTargets != "" {
		return s.opts.KillTargets
	}
	if t := s.opts.FaultTargets[kind]; t != "" {
		return t
	}
	return "one"
}
