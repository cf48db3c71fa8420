package nemesis

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// failpointFault is the failpoint kind: a failpoint of the store armed on
// the target nodes, disarmed (and a node it crashed started again) when the
// fault stops.
type failpointFault struct{}

// failpointValue is the value of a scheduled start-failpoint: the targets
// and seed every targeted step has, and which failpoints to choose from
// ("crash": every one the store has, to panic), and whether the nemesis
// drives a node into a failpoint only a maintenance call reaches
// (Trigger "call", or "" in schedules written before there was a
// choice) or leaves that to the workload's traffic ("traffic").
type failpointValue struct {
	faultValue
	Failpoints string `json:"failpoints"`
	Trigger    string `json:"trigger,omitempty"`
}

// FailpointEffect is the completion value of start-failpoint: the
// failpoint armed on each node hit.
type FailpointEffect struct {
	Nodes []string                   `json:"nodes"`
	Armed map[string]fault.Failpoint `json:"armed"`
	// Triggered says, per node, which call the nemesis made to reach a
	// failpoint that only that call passes (a defragmentation, a
	// compaction), and how it ended.
	Triggered map[string]string `json:"triggered,omitempty"`
	Leader    string            `json:"leader,omitempty"`
}

func (failpointFault) draw(base faultValue, opts Options) any {
	return failpointValue{faultValue: base, Failpoints: opts.option("failpoints"), Trigger: opts.option("failpoint-trigger")}
}

func (failpointFault) check(raw json.RawMessage, names []string) error {
	var v failpointValue
	if err := checkTargeted(raw, &v, &v.faultValue, names); err != nil {
		return err
	}
	if v.Trigger != "" && !slices.Contains(fault.FailpointTriggers, v.Trigger) {
		return fmt.Errorf("trigger %q: want one of %s", v.Trigger, strings.Join(fault.FailpointTriggers, ", "))
	}
	return fault.CheckFailpointList(v.Failpoints)
}

// start arms, on each target node, one failpoint drawn from the step's
// list among those the node's store has.
func (failpointFault) start(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	fp, ok := c.(harness.Failpointer)
	if !ok {
		return nil, refuse("this cluster serves no failpoints (it is no harness.Failpointer; build the target with --target-failpoints)")
	}
	var v failpointValue
	if err := op.DecodeValue(&v); err != nil {
		return nil, refusal{err}
	}
	nodes, err := chooseNodes(ctx, c, v.faultValue)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewSource(v.Seed))
	effect := FailpointEffect{Nodes: nodes, Armed: map[string]fault.Failpoint{}}
	for _, name := range nodes {
		n, _ := harness.NodeByName(c.Nodes(), name)
		have, err := fp.Failpoints(ctx, n)
		if err != nil {
			return effect, err
		}
		choice, err := chooseFailpoint(v.Failpoints, have, r)
		if err != nil {
			return effect, refusal{fmt.Errorf("%s: %w", name, err)}
		}
		if err := fp.ArmFailpoint(ctx, n, choice.Name, choice.Action); err != nil {
			return effect, err
		}
		effect.Armed[name] = choice
		m.armed[name] = choice.Name
		if v.Trigger == fault.TriggerTraffic {
			continue
		}
		if call := trigger(ctx, c, n, choice.Name); call != "" {
			if effect.Triggered == nil {
				effect.Triggered = map[string]string{}
			}
			effect.Triggered[name] = call
		}
	}
	return effect, nil
}

// triggerTimeout bounds the call that drives a node into a failpoint: a
// panic ends it at once, a sleep when the sleep is over.
const triggerTimeout = 10 * time.Second

// trigger drives n through the code of failpoint name when only a
// maintenance call reaches it, as etcd's robustness tests do: a
// defragmentation for defrag*, a compaction (10 revisions behind the
// current one) for compact*. It returns the call and how it ended, or ""
// for a failpoint that the store's own traffic reaches. The call's error
// is no error of the step: a panic armed there is expected to cut it off.
func trigger(ctx context.Context, c harness.Cluster, n harness.Node, name string) string {
	mt, ok := c.(harness.Maintainer)
	if !ok {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, triggerTimeout)
	defer cancel()
	var call string
	var err error
	switch {
	case strings.HasPrefix(name, "defrag"):
		call, err = "defragment", mt.Defragment(ctx, n)
	case strings.HasPrefix(name, "compact"):
		call = "compact"
		_, err = mt.Compact(ctx, n, -10)
	default:
		return ""
	}
	if err != nil {
		return call + ": " + harness.Shorten(err.Error(), 200)
	}
	return call + ": ok"
}

// chooseFailpoint draws one failpoint of list ("crash", or NAME=ACTION,...)
// that the store has. A panic carries the failpoint's name, so that the
// node's log says which one fired.
func chooseFailpoint(list string, have []string, r *rand.Rand) (fault.Failpoint, error) {
	var options []fault.Failpoint
	if list == "crash" {
		for _, name := range have {
			options = append(options, fault.Failpoint{Name: name, Action: "panic"})
		}
	} else {
		wanted, err := fault.ParseFailpoints(list)
		if err != nil {
			return fault.Failpoint{}, err
		}
		for _, f := range wanted {
			if slices.Contains(have, f.Name) {
				options = append(options, f)
			}
		}
	}
	if len(options) == 0 {
		return fault.Failpoint{}, fmt.Errorf("the store has none of the failpoints %s (it has %d)", list, len(have))
	}
	slices.SortFunc(options, func(a, b fault.Failpoint) int { return strings.Compare(a.Name, b.Name) })
	f := options[r.Intn(len(options))]
	if f.Action == "panic" {
		f.Action = fmt.Sprintf("panic(%q)", f.Name)
	}
	return f, nil
}

// stop disarms every armed failpoint and starts again every node whose
// process a failpoint crashed (Start does nothing where it runs).
func (failpointFault) stop(ctx context.Context, m *Nemesis, c harness.Cluster, _ harness.Op) (any, error) {
	return m.disarmAll(ctx, c)
}

// disarmAll disarms what the nemesis armed and restarts those nodes'
// processes where they do not run.
func (m *Nemesis) disarmAll(ctx context.Context, c harness.Cluster) (Effect, error) {
	targets := sortedKeys(mapOf(m.armed))
	if len(targets) == 0 {
		return Effect{}, nil
	}
	fp, ok := c.(harness.Failpointer)
	if !ok {
		return Effect{}, fmt.Errorf("disarm: this cluster serves no failpoints, yet some are armed")
	}
	err := eachNamed(c, targets, func(n harness.Node) error {
		if err := fp.DisarmFailpoint(ctx, n, m.armed[n.Name]); err != nil {
			return err
		}
		return c.Start(ctx, n)
	})
	if err == nil {
		clear(m.armed)
	}
	return Effect{Nodes: targets}, err
}

// mapOf turns a map of names into a set.
func mapOf(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}
