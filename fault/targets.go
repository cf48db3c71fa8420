package fault

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/harness"
)

// Choices lists the ways a targeted fault chooses the nodes it hits: the
// values of --fault-targets and --kill-targets. "follower" is one node
// that is not the leader when the fault begins.
var Choices = []string{"one", "minority", "majority", "leader", "follower", "all"}

// Targeted lists the names of the kinds that take targets, in All order.
func Targeted() []string {
	var out []string
	for _, k := range All {
		if k.Targeted {
			out = append(out, k.Name)
		}
	}
	return out
}

// ParseTargets parses a --fault-targets value: a choice for every targeted
// kind ("minority"), per-kind choices ("pause=leader,kill=all"), or both
// ("one,pause=leader"). It returns the choice of every targeted kind. A
// kind named twice, or a default given twice, is an error: one of them
// would be silently ignored.
func ParseTargets(s string) (map[string]string, error) {
	out := map[string]string{}
	fallback, fallbackSet := "one", false
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		kind, choice, perKind := strings.Cut(part, "=")
		if !perKind {
			choice = part
		}
		if !slices.Contains(Choices, choice) {
			return nil, fmt.Errorf("unknown target choice %s: want one of %s, optionally per fault as kind=choice (e.g. one,pause=leader)", harness.Quote(choice), strings.Join(Choices, ", "))
		}
		switch {
		case !perKind && fallbackSet:
			return nil, fmt.Errorf("two target choices for every fault (%s and %s): give one, and per-fault choices as kind=choice", fallback, choice)
		case !perKind:
			fallback, fallbackSet = choice, true
		case !slices.Contains(Targeted(), kind):
			return nil, fmt.Errorf("fault %s takes no targets: the kinds that do are %s", harness.Quote(kind), strings.Join(Targeted(), ", "))
		case out[kind] != "":
			return nil, fmt.Errorf("fault %s is given two target choices (%s and %s)", kind, out[kind], choice)
		default:
			out[kind] = choice
		}
	}
	for _, k := range Targeted() {
		if out[k] == "" {
			out[k] = fallback
		}
	}
	return out, nil
}
