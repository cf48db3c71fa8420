package fault

import (
	"encoding/json"
	"strings"

	"github.com/faultline/faultline/harness"
)

// value is the part of a nemesis value that names what a fault hit: the
// groups of a partition, the nodes of a kill.
type value struct {
	Layout string     `json:"layout"`
	Groups [][]string `json:"groups"`
	Nodes  []string   `json:"nodes"`
	// Node is the one node a membership step removed or added.
	Node string `json:"node"`
}

// Label names a fault of kind begun by the nemesis op p, with the concrete
// nodes or groups its completion reports: "partition n1 | n2,n3",
// "kill n2", or "partition bridge" when the layout has no clean sides. A
// fault that may not have applied fully says so: "kill n2 (info: ...)".
func Label(kind string, p harness.Pair) string {
	v := p.Invoke.Value
	status := ""
	if c := p.Completion; c == nil {
		status = " (never completed)"
	} else {
		if len(c.Value) > 0 && string(c.Value) != "null" {
			v = c.Value
		}
		if c.Type != harness.OK {
			status = " (" + string(c.Type)
			if c.Error != "" {
				status += ": " + harness.Shorten(c.Error, 40)
			}
			status += ")"
		}
	}
	return strings.TrimSpace(kind+" "+Describe(v)) + status
}

// Describe renders a nemesis value as the nodes it names.
func Describe(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var fv value
	if err := json.Unmarshal(raw, &fv); err == nil {
		switch {
		case len(fv.Groups) > 0:
			return JoinGroups(fv.Groups)
		case len(fv.Nodes) > 0:
			return strings.Join(fv.Nodes, ",")
		case fv.Node != "":
			return fv.Node
		case fv.Layout != "":
			return fv.Layout
		}
	}
	var groups [][]string
	if err := json.Unmarshal(raw, &groups); err == nil && len(groups) > 0 {
		return JoinGroups(groups)
	}
	var nodes []string
	if err := json.Unmarshal(raw, &nodes); err == nil {
		return strings.Join(nodes, ",")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return harness.Shorten(string(raw), 40)
}

// JoinGroups renders a partition's sides: "n1,n5 | n2,n3,n4".
func JoinGroups(groups [][]string) string {
	sides := make([]string, len(groups))
	for i, g := range groups {
		sides[i] = strings.Join(g, ",")
	}
	return strings.Join(sides, " | ")
}
