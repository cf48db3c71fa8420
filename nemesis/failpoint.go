package nemesis

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strings"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// failpointFault is the failpoint kind: a failpoint of the store armed on
// the target nodes, disarmed (and a node it crashed started again) when the
// fault stops.
type failpointFault struct{}

// failpointValue is the value of a scheduled start-failpoint: the targets
// and seed every targeted step has, and which failpoints to choose from
// ("crash": every one the store has, to panic).
type failpointValue struct {
	faultValue
	Failpoints string `json:"failpoints"`
}

// FailpointEffect is the completion value of start-failpoint: the
// failpoint armed on each node hit.
type FailpointEffect struct {
	Nodes  []string                   `json:"nodes"`
	Armed  map[string]fault.Failpoint `json:"armed"`
	Leader string                     `json:"leader,omitempty"`
}

func (failpointFault) draw(base faultValue, opts Options) any {
	return failpointValue{faultValue: base, Failpoints: opts.option("failpoints")}
}

func (failpointFault) check(raw json.RawMessage, names []string) error {
	var v failpointValue
	if err := decodeStrict(raw, &v); err != nil {
		return err
	}
	inner, _ := json.Marshal(v.faultValue)
	if _, err := targetedValue(inner, names); err != nil {
		return err
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
	}
	return effect, nil
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
