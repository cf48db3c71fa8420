package results

import (
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/harness"
)

// Summary renders what a person reads first: the test, the verdict of every
// checker with its own summary lines, and the overall verdict.
func Summary(spec harness.Spec, rs harness.Results, dir string) string {
	var b strings.Builder
	nem := "none"
	if len(spec.Nemesis) > 0 {
		nem = strings.Join(spec.Nemesis, ",")
	}
	reads := "linearizable"
	if spec.Serializable {
		reads = "serializable"
	}
	fmt.Fprintf(&b, "test      %s: %s, %d nodes, workload %s (%s reads), nemesis %s", spec.Name, spec.Target, spec.Nodes, spec.Workload, reads, nem)
	if strings.Contains(nem, "partition") {
		fmt.Fprintf(&b, " (layout %s)", spec.Partition)
	}
	if spec.TargetBug != "" {
		fmt.Fprintf(&b, ", bug mode %s", spec.TargetBug)
	}
	fmt.Fprintf(&b, "\n          %v, concurrency %d, rate %g/s, seed %d\n", spec.TimeLimit, spec.Concurrency, spec.Rate, spec.Seed)
	names := make([]string, 0, len(rs.Checkers))
	for name := range rs.Checkers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r := rs.Checkers[name]
		fmt.Fprintf(&b, "%-9s valid=%s\n", name, r.Valid)
		for _, line := range r.Summary {
			fmt.Fprintf(&b, "          %s\n", line)
		}
	}
	fmt.Fprintf(&b, "verdict   %s (exit %d)\n", Verdict(rs.Valid), rs.Valid.ExitCode())
	if dir != "" {
		fmt.Fprintf(&b, "store     %s\n", dir)
	}
	return b.String()
}

// Verdict is the word a person reads for a validity.
func Verdict(v harness.Valid) string {
	switch v {
	case harness.ValidTrue:
		return "VALID"
	case harness.ValidFalse:
		return "INVALID"
	default:
		return "UNKNOWN"
	}
}
