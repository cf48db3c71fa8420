package watch

import (
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/harness"
)

// summary renders d: the counts, the final watches, then one line per
// guarantee with its verdict and what it judged, or its first violation,
// or why it could not be judged.
func summary(d *Details) []string {
	c := d.Counts
	lines := []string{
		fmt.Sprintf("watch: writes %s: %d puts, %d deletes, %d txns; compactions %d; watch ops %d in %d sessions, %d watches (%d failing over), %d events, %d progress notifications, %d compaction cancels; reference: %d revisions, %d whole",
			c.Writes, c.Puts, c.Deletes, c.Txns, c.Compactions.Total(), c.WatchOps.Total(), c.Sessions, c.Watches, c.Failover, c.Events, c.Progress, c.Compacted, d.Revisions, d.Whole),
	}
	complete := 0
	var finals []string
	for _, f := range d.Finals {
		if f.Complete {
			complete++
		}
		finals = append(finals, fmt.Sprintf("op %d on %s %s", f.Op, f.Node, f.Outcome))
	}
	line := fmt.Sprintf("  final watches: %d (complete: %d)", len(d.Finals), complete)
	if len(finals) > 0 {
		line += ": " + strings.Join(finals, "; ")
	}
	lines = append(lines, line)
	for _, p := range d.Properties {
		switch {
		case p.First != nil:
			lines = append(lines, fmt.Sprintf("  %s: false, %s (%s); first: %s", p.Name, harness.Count(p.Violations, "violation"), kinds(p.Kinds), p.First))
		case p.Reason != "":
			lines = append(lines, fmt.Sprintf("  %s: unknown: %s", p.Name, p.Reason))
		default:
			lines = append(lines, fmt.Sprintf("  %s: true (%s)", p.Name, p.Judged))
		}
	}
	return lines
}

// kinds renders violation counts by kind, in name order.
func kinds(m map[string]int) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
