package nemesis

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// Faults lists every --nemesis fault kind this package can inject.
var Faults = []string{"partition", "kill"}

// KillTargets lists the values of --kill-targets.
var KillTargets = []string{"one", "minority", "majority", "leader", "all"}

// Nemesis op functions. Each fault has a start and a stop; the pair bounds a
// fault window, which is what the checkers shade and measure.
const (
	StartPartition = "start-partition"
	StopPartition  = "stop-partition"
	KillF          = "kill"
	StartF         = "start"
	HealF          = "heal"
)

// Options configure the faults a schedule draws from.
type Options struct {
	// Faults are the enabled kinds, a subset of Faults. Empty means none.
	Faults []string
	// Layout is the --partition layout.
	Layout string
	// KillTargets chooses which nodes a kill hits: one of KillTargets.
	KillTargets string
	// KillCount, when > 0, kills exactly that many nodes instead.
	KillCount int
	// Interval is the time between a fault's start and stop, and between a
	// stop and the next start.
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

// partitionValue is the value of a scheduled start-partition.
type partitionValue struct {
	Layout string `json:"layout"`
	Seed   int64  `json:"seed"`
}

// killValue is the value of a scheduled kill.
type killValue struct {
	Targets string `json:"targets"`
	Count   int    `json:"count,omitempty"`
	Seed    int64  `json:"seed"`
}

// Schedule draws a fault schedule from r: from one interval in, a fault
// starts, and one interval later it stops; then the next begins one
// interval after that. Which fault, and every random choice a fault makes
// at run time (which nodes, which shuffle), come from r, so the same seed
// gives the same schedule. Steps at or past the time limit are not drawn:
// the runner's final phase heals whatever is still in force.
func Schedule(opts Options, timeLimit time.Duration, r *rand.Rand) []harness.Step {
	if len(opts.Faults) == 0 || opts.Interval <= 0 {
		return nil
	}
	var steps []harness.Step
	for at := opts.Interval; at < timeLimit; at += 2 * opts.Interval {
		fault := opts.Faults[r.Intn(len(opts.Faults))]
		seed := r.Int63()
		stopAt := at + opts.Interval
		switch fault {
		case "partition":
			steps = append(steps, harness.Step{At: at, F: StartPartition, Value: harness.MustValue(partitionValue{Layout: opts.Layout, Seed: seed})})
			if stopAt < timeLimit {
				steps = append(steps, harness.Step{At: stopAt, F: StopPartition})
			}
		case "kill":
			steps = append(steps, harness.Step{At: at, F: KillF, Value: harness.MustValue(killValue{Targets: opts.KillTargets, Count: opts.KillCount, Seed: seed})})
			if stopAt < timeLimit {
				steps = append(steps, harness.Step{At: stopAt, F: StartF})
			}
		}
	}
	return steps
}

// pickTargets chooses the nodes a kill hits. leader is needed only for
// "leader".
func pickTargets(targets string, count int, nodes []string, leader string, r *rand.Rand) ([]string, error) {
	shuffled := slices.Clone(nodes)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	n := len(nodes)
	if count > 0 {
		return sorted(shuffled[:min(count, n)]), nil
	}
	switch targets {
	case "", "one":
		return shuffled[:1], nil
	case "minority":
		return sorted(shuffled[:max(1, (n-1)/2)]), nil
	case "majority":
		return sorted(shuffled[:n/2+1]), nil
	case "all":
		return sorted(shuffled), nil
	case "leader":
		if leader == "" {
			return nil, fmt.Errorf("kill leader: no leader known")
		}
		return []string{leader}, nil
	}
	return nil, fmt.Errorf("unknown kill targets %q: want one of %s", targets, strings.Join(KillTargets, ", "))
}
