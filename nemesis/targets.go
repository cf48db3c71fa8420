package nemesis

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"

	"github.com/faultline/faultline/fault"
)

// partitionValue is the value of a scheduled start-partition.
type partitionValue struct {
	Layout string `json:"layout"`
	Seed   int64  `json:"seed"`
}

// faultValue is the value of a scheduled step that starts a fault on some
// nodes: kill, pause, start-crash, start-loss, start-bandwidth,
// start-delay.
type faultValue struct {
	// Targets is one of Targets.
	Targets string `json:"targets,omitempty"`
	// Count, when > 0, hits exactly that many nodes (kill only).
	Count int `json:"count,omitempty"`
	// Nodes, when given, are the nodes hit, whatever Targets says. The
	// drawn schedule leaves it empty; a hand-written one may name nodes.
	Nodes []string `json:"nodes,omitempty"`
	// Seed drives the choice of nodes.
	Seed int64 `json:"seed"`
	// Probability is a loss fault's chance to drop a packet.
	Probability float64 `json:"probability,omitempty"`
	// Rate is a bandwidth fault's rate, in tc's units.
	Rate string `json:"rate,omitempty"`
	// Delay is a delay fault's added latency, as a Go duration.
	Delay string `json:"delay,omitempty"`
}

// memberValue is the value of a scheduled member step.
type memberValue struct {
	Node string `json:"node"`
}

// Effect is the completion value of a nemesis op that acts on nodes: the
// nodes it hit and, for the network faults, what they now suffer.
type Effect struct {
	Nodes       []string `json:"nodes"`
	Probability float64  `json:"probability,omitempty"`
	Rate        string   `json:"rate,omitempty"`
	Delay       string   `json:"delay,omitempty"`
	// Grudge is the partition a stop-crash re-applied to the nodes it
	// rebooted: what each of them drops.
	Grudge Grudge `json:"grudge,omitempty"`
	// Leader is the node that led when the fault began; empty when the
	// cluster named none.
	Leader string `json:"leader,omitempty"`
}

// MemberEffect is the completion value of a member step.
type MemberEffect struct {
	// Node is the node removed or added.
	Node string `json:"node"`
	// ID is the raft member id it had (removed) or got (added), in hex.
	ID string `json:"id,omitempty"`
	// Members names the members after the step; "?" stands for one that
	// has not started yet.
	Members []string `json:"members,omitempty"`
}

// pickTargets chooses the nodes a fault hits. leader is needed only for
// "leader" and "follower".
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
			return nil, fmt.Errorf("target the leader: no leader known")
		}
		return []string{leader}, nil
	case "follower":
		if leader == "" {
			return nil, fmt.Errorf("target a follower: no leader known")
		}
		for _, n := range shuffled {
			if n != leader {
				return []string{n}, nil
			}
		}
		return nil, fmt.Errorf("target a follower: %s, the leader, is the only node", leader)
	}
	return nil, fmt.Errorf("unknown targets %q: want one of %s", targets, strings.Join(fault.Choices, ", "))
}
