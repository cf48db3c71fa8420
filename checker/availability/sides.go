package availability

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Roles a side plays in a fault window.
const (
	// RoleMajority is a side with a quorum: it must keep accepting writes.
	RoleMajority = "majority"
	// RoleMinority is a side without a quorum: it must refuse every
	// linearizable op once the grace period is over.
	RoleMinority = "minority"
	// RoleDown is the nodes a kill or pause stopped: nothing can answer.
	RoleDown = "down"
)

// side is a set of nodes that could reach each other during a fault.
type side struct {
	role  string
	nodes []string
}

// sidesOf places the nodes of a window on its sides. clean is false when
// the fault has no clean sides (bridge, majorities-ring): visibility is not
// transitive there, so no node can be said to be in a minority.
func sidesOf(w window, cfg Config) (sides []side, clean bool) {
	if w.kind == KindPartition {
		if w.groups == nil {
			return nil, false
		}
		for _, g := range w.groups {
			sides = append(sides, side{role: roleOf(len(g), cfg), nodes: sorted(g)})
		}
		return sides, true
	}
	var up []string
	for _, n := range cfg.Nodes {
		if !slices.Contains(w.cut, n) {
			up = append(up, n)
		}
	}
	if len(up) > 0 {
		sides = append(sides, side{role: roleOf(len(up), cfg), nodes: up})
	}
	return append(sides, side{role: RoleDown, nodes: w.cut}), true
}

func roleOf(size int, cfg Config) string {
	if size >= cfg.majority() {
		return RoleMajority
	}
	return RoleMinority
}

// hasMajority reports whether some side holds a quorum.
func hasMajority(sides []side) bool {
	return slices.ContainsFunc(sides, func(s side) bool { return s.role == RoleMajority })
}

// expectation states, in a sentence, what a CP store must do during w.
func expectation(w window, sides []side, clean bool, cfg Config) string {
	grace, bound := fmtDuration(cfg.Grace), fmtDuration(cfg.MajorityGapBound)
	n := len(cfg.Nodes)
	if !clean {
		return fmt.Sprintf("layout %s has no clean sides: per-node figures only, nothing is expected", w.layout)
	}
	if w.kind != KindPartition {
		k := len(w.cut)
		verb := map[string]string{KindKill: "killed", KindPause: "paused", KindCrash: "crashed"}[w.kind]
		if hasMajority(sides) {
			return fmt.Sprintf("%d of %d %s leaves a majority: writes stay available (no write gap over %s)", k, n, verb, bound)
		}
		return fmt.Sprintf("%d of %d %s leaves no majority: writes stop (no write or linearizable read invoked %s after the %s succeeds until the restart)", k, n, verb, grace, w.kind)
	}
	var minority, majority []string
	for _, s := range sides {
		if s.role == RoleMajority {
			majority = append(majority, strings.Join(s.nodes, ","))
		} else {
			minority = append(minority, strings.Join(s.nodes, ","))
		}
	}
	if len(majority) == 0 {
		return fmt.Sprintf("no side has a majority: no side serves a linearizable op invoked %s after the cut", grace)
	}
	return fmt.Sprintf("the minority (%s) serves no linearizable op invoked %s after the cut; the majority (%s) accepts writes with no gap over %s",
		strings.Join(minority, " | "), grace, majority[0], bound)
}

// fmtDuration renders a duration in seconds, as every figure is shown.
func fmtDuration(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
