package nemesis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/faultline/faultline/harness"
)

// killFault is the kill kind: SIGKILL of the DB process, restarted with
// its data by the stop op.
type killFault struct{}

func (killFault) start(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.kill(ctx, c, op)
}

func (killFault) stop(ctx context.Context, m *Nemesis, c harness.Cluster, _ harness.Op) (any, error) {
	return m.restart(ctx, c)
}

func (killFault) draw(base faultValue, opts Options) any {
	base.Count, _ = strconv.Atoi(opts.option("kill-count"))
	return base
}

func (killFault) check(raw json.RawMessage, names []string) error {
	_, err := targetedValue(raw, names)
	return err
}

// pauseFault is the pause kind: SIGSTOP, then SIGCONT.
type pauseFault struct{}

func (pauseFault) start(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.pause(ctx, c, op)
}

func (pauseFault) stop(ctx context.Context, m *Nemesis, c harness.Cluster, _ harness.Op) (any, error) {
	return m.resume(ctx, c)
}

func (pauseFault) draw(base faultValue, _ Options) any { return base }

func (pauseFault) check(raw json.RawMessage, names []string) error {
	_, err := targetedValue(raw, names)
	return err
}

// crashFault is the crash kind: the whole machine killed, then rebooted.
type crashFault struct{}

func (crashFault) start(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.crash(ctx, c, op)
}

func (crashFault) stop(ctx context.Context, m *Nemesis, c harness.Cluster, _ harness.Op) (any, error) {
	return m.reboot(ctx, c)
}

func (crashFault) draw(base faultValue, _ Options) any { return base }

func (crashFault) check(raw json.RawMessage, names []string) error {
	_, err := targetedValue(raw, names)
	return err
}

// targetsOf decodes a step that hits nodes and chooses them.
func targetsOf(ctx context.Context, c harness.Cluster, op harness.Op) ([]string, error) {
	var v faultValue
	if err := op.DecodeValue(&v); err != nil {
		return nil, refusal{err}
	}
	return chooseNodes(ctx, c, v)
}

// kill SIGKILLs the DB process on the step's targets.
func (m *Nemesis) kill(ctx context.Context, c harness.Cluster, op harness.Op) (any, error) {
	targets, err := targetsOf(ctx, c, op)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		m.killed[t] = true
	}
	return Effect{Nodes: targets}, eachNamed(c, targets, func(n harness.Node) error { return c.Kill(ctx, n) })
}

// restart starts every killed node's DB process again.
func (m *Nemesis) restart(ctx context.Context, c harness.Cluster) (Effect, error) {
	targets := sortedKeys(m.killed)
	err := eachNamed(c, targets, func(n harness.Node) error { return c.Start(ctx, n) })
	m.forget(m.killed, targets, err)
	return Effect{Nodes: targets}, err
}

// pause freezes the DB process on the step's targets (SIGSTOP).
func (m *Nemesis) pause(ctx context.Context, c harness.Cluster, op harness.Op) (any, error) {
	p, ok := c.(harness.Pauser)
	if !ok {
		return nil, refuse("this cluster cannot pause processes (it is no harness.Pauser)")
	}
	targets, err := targetsOf(ctx, c, op)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		m.paused[t] = true
	}
	return Effect{Nodes: targets}, eachNamed(c, targets, func(n harness.Node) error { return p.Pause(ctx, n) })
}

// resume thaws every paused DB process (SIGCONT).
func (m *Nemesis) resume(ctx context.Context, c harness.Cluster) (Effect, error) {
	targets := sortedKeys(m.paused)
	if len(targets) == 0 {
		return Effect{}, nil
	}
	p, ok := c.(harness.Pauser)
	if !ok {
		return Effect{}, errors.New("resume: this cluster cannot pause processes, yet some are paused")
	}
	err := eachNamed(c, targets, func(n harness.Node) error { return p.Resume(ctx, n) })
	m.forget(m.paused, targets, err)
	return Effect{Nodes: targets}, err
}

// crash kills the whole machine of the step's targets.
func (m *Nemesis) crash(ctx context.Context, c harness.Cluster, op harness.Op) (any, error) {
	cr, ok := c.(harness.Crasher)
	if !ok {
		return nil, refuse("this cluster cannot crash machines (it is no harness.Crasher)")
	}
	targets, err := targetsOf(ctx, c, op)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		m.crashed[t] = true
	}
	return Effect{Nodes: targets}, eachNamed(c, targets, func(n harness.Node) error { return cr.Crash(ctx, n) })
}

// reboot brings every crashed machine back. A machine comes back with a
// fresh network namespace, which would silently heal any partition, so
// the network faults in force are applied to it again BEFORE its DB
// process starts: the DB must never see a network that the schedule says
// is cut. The effect reports the grudge re-applied.
func (m *Nemesis) reboot(ctx context.Context, c harness.Cluster) (Effect, error) {
	targets := sortedKeys(m.crashed)
	if len(targets) == 0 {
		return Effect{}, nil
	}
	cr, ok := c.(harness.Crasher)
	if !ok {
		return Effect{}, errors.New("reboot: this cluster cannot crash machines, yet some are down")
	}
	err := eachNamed(c, targets, func(n harness.Node) error {
		if err := cr.Reboot(ctx, n); err != nil {
			return err
		}
		if err := m.net.apply(ctx, c, []harness.Node{n}, nil); err != nil {
			return fmt.Errorf("re-apply network faults to rebooted %s: %w", n.Name, err)
		}
		return c.Start(ctx, n)
	})
	effect := Effect{Nodes: targets}
	for _, t := range targets {
		if drops := m.net.grudge[t]; len(drops) > 0 {
			if effect.Grudge == nil {
				effect.Grudge = Grudge{}
			}
			effect.Grudge[t] = drops
		}
	}
	m.forget(m.crashed, targets, err)
	return effect, err
}

// forget clears targets from set once the step that undoes their fault
// succeeded; after a failure the set keeps them all, so that Heal tries
// again (every undo step is idempotent).
func (m *Nemesis) forget(set map[string]bool, targets []string, err error) {
	if err != nil {
		return
	}
	for _, t := range targets {
		delete(set, t)
	}
}
