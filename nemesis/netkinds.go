package nemesis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// partitionFault is the partition kind: the grudge of a layout, as DROP
// rules in each receiver's chain.
type partitionFault struct{}

func (partitionFault) start(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.startPartition(ctx, c, op)
}

func (partitionFault) stop(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.stopNetworkFault(ctx, c, op.F)
}

func (partitionFault) draw(base faultValue, opts Options) any {
	return partitionValue{Layout: opts.Layout, Seed: base.Seed}
}

func (partitionFault) check(raw json.RawMessage, names []string) error {
	var v partitionValue
	if err := decodeStrict(raw, &v); err != nil {
		return err
	}
	return ValidateLayout(v.Layout, len(names))
}

// lossFault is the loss kind: statistic DROP rules for the packets to and
// from the target nodes.
type lossFault struct{}

func (lossFault) start(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.startNetworkFault(ctx, c, op)
}

func (lossFault) stop(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.stopNetworkFault(ctx, c, op.F)
}

func (lossFault) draw(base faultValue, opts Options) any {
	base.Probability, _ = strconv.ParseFloat(opts.option("loss-probability"), 64)
	return base
}

func (lossFault) check(raw json.RawMessage, names []string) error {
	v, err := targetedValue(raw, names)
	if err != nil {
		return err
	}
	if !(v.Probability >= 0 && v.Probability <= 1) {
		return fmt.Errorf("loss probability %v is not in [0, 1]", v.Probability)
	}
	return nil
}

// bandwidthFault is the bandwidth kind: a tbf root qdisc on the targets.
type bandwidthFault struct{}

func (bandwidthFault) start(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.startNetworkFault(ctx, c, op)
}

func (bandwidthFault) stop(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.stopNetworkFault(ctx, c, op.F)
}

func (bandwidthFault) draw(base faultValue, opts Options) any {
	base.Rate = opts.option("bandwidth")
	return base
}

func (bandwidthFault) check(raw json.RawMessage, names []string) error {
	v, err := targetedValue(raw, names)
	if err != nil {
		return err
	}
	_, err = fault.ParseRate(v.Rate)
	return err
}

// delayFault is the delay kind: a netem root qdisc on the targets.
type delayFault struct{}

func (delayFault) start(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.startNetworkFault(ctx, c, op)
}

func (delayFault) stop(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.stopNetworkFault(ctx, c, op.F)
}

func (delayFault) draw(base faultValue, opts Options) any {
	base.Delay = opts.option("delay")
	return base
}

func (delayFault) check(raw json.RawMessage, names []string) error {
	v, err := targetedValue(raw, names)
	if err != nil {
		return err
	}
	if d, err := time.ParseDuration(v.Delay); err != nil || d <= 0 || d > 10*time.Second {
		return fmt.Errorf("delay %q is no duration above 0 and at most 10s", v.Delay)
	}
	return nil
}
