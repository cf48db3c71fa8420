package nemesis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// injector performs one fault kind of fault.All: it begins the fault, ends
// it, and draws and checks the values of the scheduled steps that begin
// it. Each kind's injector lives in a file of its own, beside the state
// the Nemesis keeps for it.
type injector interface {
	// start performs the kind's Start op and returns what it hit.
	start(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error)
	// stop performs the kind's Stop op and returns what it undid.
	stop(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error)
	// draw is the value of a scheduled Start step: base holds the
	// targets and seed every targeted step carries, opts the schedule's
	// options.
	draw(base faultValue, opts Options) any
	// check says what is wrong with a Start step's value, against the
	// nodes n1..nN of names.
	check(raw json.RawMessage, names []string) error
}

// injectors holds the injector of every kind of fault.All, by name.
var injectors = map[string]injector{
	"partition":       partitionFault{},
	"kill":            killFault{},
	"pause":           pauseFault{},
	"crash":           crashFault{},
	"loss":            lossFault{},
	"bandwidth":       bandwidthFault{},
	"delay":           delayFault{},
	"member":          memberFault{},
	"failpoint":       failpointFault{},
	"compact":         compactFault{},
	"defrag":          defragFault{},
	"leader-transfer": leaderTransferFault{},
	"snapshot":        snapshotFault{},
	"upgrade":         upgradeFault{},
	"corrupt":         corruptFault{},
}

// injectorOf finds the kind and injector of a nemesis op, and whether the
// op starts (true) or stops the fault.
func injectorOf(f string) (fault.Kind, injector, bool, error) {
	k, edge := fault.Of(f)
	inj, ok := injectors[k.Name]
	if !ok || (edge != fault.Opens && edge != fault.Closes) {
		return k, nil, false, refuse("unknown nemesis op %q: want one of %s", f, strings.Join(knownOps(), ", "))
	}
	return k, inj, edge == fault.Opens, nil
}

// knownOps lists every op the nemesis performs, in fault.All order.
func knownOps() []string {
	var ops []string
	for _, k := range fault.All {
		ops = append(ops, k.Start)
		if k.Stop != "" {
			ops = append(ops, k.Stop)
		}
	}
	return ops
}

// targetedValue decodes a targeted step strictly and checks its nodes and
// target choice.
func targetedValue(raw json.RawMessage, names []string) (faultValue, error) {
	var v faultValue
	if err := decodeStrict(raw, &v); err != nil {
		return v, err
	}
	for _, node := range v.Nodes {
		if !slices.Contains(names, node) {
			return v, fmt.Errorf("node %q is not one of n1..n%d", node, len(names))
		}
	}
	if len(v.Nodes) == 0 && !slices.Contains(fault.Choices, v.Targets) {
		return v, fmt.Errorf("targets %q: want one of %v, or explicit nodes", v.Targets, fault.Choices)
	}
	if v.Count < 0 || v.Count > len(names) {
		return v, fmt.Errorf("count %d: want 0 (use targets) up to the %d nodes", v.Count, len(names))
	}
	return v, nil
}

// checkTargeted decodes a step's value strictly into v, a value that
// embeds the faultValue at base, and checks that faultValue's nodes and
// target choice.
func checkTargeted(raw json.RawMessage, v any, base *faultValue, names []string) error {
	if err := decodeStrict(raw, v); err != nil {
		return err
	}
	inner, _ := json.Marshal(*base)
	_, err := targetedValue(inner, names)
	return err
}
