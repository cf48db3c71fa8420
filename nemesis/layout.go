// Package nemesis injects faults into a cluster: network partitions in the
// shape of a layout, process kills, and the schedule that times them. The
// layouts and the schedule are pure functions of a seed; only partition.go
// and kill.go touch the cluster, through harness.Cluster.
package nemesis

import (
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"strings"
)

// Layouts lists every --partition value besides an explicit one. The order
// is the order --help shows.
var Layouts = []string{"halves", "one", "leader", "minority-leader", "bridge", "majorities-ring", "random"}

// Grudge maps each node to the nodes whose packets it drops. It is Jepsen's
// model of a partition: a node with an empty grudge sees everyone.
type Grudge map[string][]string

// Partition is the concrete shape a layout produced for one fault.
type Partition struct {
	// Layout is the name the user gave (or "explicit").
	Layout string `json:"layout"`
	// Groups are the sides, when the layout has clean sides (halves, one,
	// leader, minority-leader, random, explicit). Empty for bridge and
	// majorities-ring, where visibility is not transitive.
	Groups [][]string `json:"groups,omitempty"`
	// Grudge is what each node drops; it is what partition.go applies.
	Grudge Grudge `json:"grudge"`
	// Leader is the node that led when the partition began; empty when
	// the cluster named none.
	Leader string `json:"leader,omitempty"`
}

// ValidateLayout checks a --partition value against the node names n1..nN
// without needing a cluster. It returns an error that says what is allowed.
func ValidateLayout(layout string, nodeCount int) error {
	if strings.Contains(layout, "|") {
		_, err := ParseExplicit(layout, nodeCount)
		return err
	}
	if !slices.Contains(Layouts, layout) {
		return fmt.Errorf("unknown layout %q: want one of %s, or explicit groups such as n1,n2|n3,n4,n5", layout, strings.Join(Layouts, ", "))
	}
	if nodeCount < 2 {
		return fmt.Errorf("layout %q needs at least 2 nodes to partition, have %d", layout, nodeCount)
	}
	if layout == "bridge" && nodeCount < 3 {
		return fmt.Errorf("layout bridge needs at least 3 nodes, have %d", nodeCount)
	}
	if layout == "majorities-ring" && nodeCount < 4 {
		return fmt.Errorf("layout majorities-ring needs at least 4 nodes (with 3 every node sees every other), have %d", nodeCount)
	}
	return nil
}

// ParseExplicit parses groups such as "n1,n2|n3,n4,n5". Every name must be
// one of n1..nN and appear once; nodes left out form no group of their own
// and stay connected to everyone, which is rarely intended, so they are an
// error too.
func ParseExplicit(layout string, nodeCount int) ([][]string, error) {
	valid := map[string]bool{}
	for _, n := range NodeNames(nodeCount) {
		valid[n] = true
	}
	seen := map[string]bool{}
	var groups [][]string
	for _, part := range strings.Split(layout, "|") {
		var g []string
		for _, name := range strings.Split(part, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				return nil, fmt.Errorf("layout %q has an empty node name or group", layout)
			}
			if !valid[name] {
				return nil, fmt.Errorf("layout %q names %s, which is not one of n1..n%d", layout, name, nodeCount)
			}
			if seen[name] {
				return nil, fmt.Errorf("layout %q names %s twice", layout, name)
			}
			seen[name] = true
			g = append(g, name)
		}
		groups = append(groups, g)
	}
	if len(groups) < 2 {
		return nil, fmt.Errorf("layout %q needs at least two groups separated by |", layout)
	}
	if len(seen) != nodeCount {
		var missing []string
		for _, n := range NodeNames(nodeCount) {
			if !seen[n] {
				missing = append(missing, n)
			}
		}
		return nil, fmt.Errorf("layout %q leaves out %s: name every node n1..n%d exactly once", layout, strings.Join(missing, ","), nodeCount)
	}
	return groups, nil
}

// NodeNames returns n1..nN.
func NodeNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("n%d", i+1)
	}
	return names
}

// Resolve turns a layout into a concrete partition of nodes. leader is the
// current leader's name; it is needed only by the leader layouts and may be
// empty otherwise. r supplies every random choice, so a recorded seed
// reproduces the same partition.
func Resolve(layout string, nodes []string, leader string, r *rand.Rand) (Partition, error) {
	if strings.Contains(layout, "|") {
		groups, err := ParseExplicit(layout, len(nodes))
		if err != nil {
			return Partition{}, err
		}
		return fromGroups("explicit", groups), nil
	}
	shuffled := slices.Clone(nodes)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	minority := (len(nodes) - 1) / 2
	switch layout {
	case "halves":
		return fromGroups(layout, [][]string{shuffled[:len(nodes)/2], shuffled[len(nodes)/2:]}), nil
	case "one":
		return fromGroups(layout, [][]string{shuffled[:1], shuffled[1:]}), nil
	case "random":
		k := 1 + r.Intn(len(nodes)-1)
		return fromGroups(layout, [][]string{shuffled[:k], shuffled[k:]}), nil
	case "leader", "minority-leader":
		if leader == "" {
			return Partition{}, fmt.Errorf("layout %s: no leader known", layout)
		}
		size := 1
		if layout == "minority-leader" {
			size = max(1, minority)
		}
		side := []string{leader}
		for _, n := range shuffled {
			if len(side) < size && n != leader {
				side = append(side, n)
			}
		}
		return fromGroups(layout, [][]string{side, without(nodes, side)}), nil
	case "bridge":
		return bridge(shuffled), nil
	case "majorities-ring":
		return majoritiesRing(shuffled), nil
	}
	return Partition{}, fmt.Errorf("unknown layout %q", layout)
}

// fromGroups builds the complete grudge of clean sides: every node drops
// every node outside its own group.
func fromGroups(layout string, groups [][]string) Partition {
	p := Partition{Layout: layout, Grudge: Grudge{}}
	for _, g := range groups {
		sorted := slices.Clone(g)
		sort.Strings(sorted)
		p.Groups = append(p.Groups, sorted)
	}
	for _, g := range groups {
		for _, n := range g {
			for _, other := range groups {
				if slices.Equal(other, g) {
					continue
				}
				p.Grudge[n] = append(p.Grudge[n], other...)
			}
			sort.Strings(p.Grudge[n])
		}
	}
	return p
}

// bridge splits the nodes into two halves that see each other only through
// one node in the middle, which sees everyone.
func bridge(shuffled []string) Partition {
	mid := len(shuffled) / 2
	left, middle, right := shuffled[:mid], shuffled[mid], shuffled[mid+1:]
	g := Grudge{middle: nil}
	for _, n := range left {
		g[n] = sorted(right)
	}
	for _, n := range right {
		g[n] = sorted(left)
	}
	return Partition{Layout: "bridge", Grudge: g}
}

// majoritiesRing places the nodes on a ring; each sees itself and its k
// nearest neighbours on both sides, with k the smallest number that makes
// 2k+1 a majority. Every node then sees a majority, and no two nodes see the
// same one.
func majoritiesRing(ring []string) Partition {
	n := len(ring)
	majority := n/2 + 1
	k := majority / 2 // 2k+1 >= majority
	g := Grudge{}
	for i, node := range ring {
		visible := map[string]bool{node: true}
		for d := 1; d <= k; d++ {
			visible[ring[(i+d)%n]] = true
			visible[ring[(i-d+n)%n]] = true
		}
		var drop []string
		for _, other := range ring {
			if !visible[other] {
				drop = append(drop, other)
			}
		}
		g[node] = sorted(drop)
	}
	return Partition{Layout: "majorities-ring", Grudge: g}
}

func without(all, remove []string) []string {
	var out []string
	for _, n := range all {
		if !slices.Contains(remove, n) {
			out = append(out, n)
		}
	}
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}
