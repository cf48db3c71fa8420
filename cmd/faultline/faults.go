package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/targets"
)

// faultFlags are the flags that shape the faults beyond --nemesis: which
// nodes each kind hits, what loss, bandwidth and delay faults do, and a
// stored schedule to replay.
type faultFlags struct {
	targets         string
	lossProbability float64
	bandwidth       string
	delay           time.Duration
	replay          string
}

func (f *faultFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.targets, "fault-targets", "one", "nodes a kill, pause, crash, loss, bandwidth or delay hits: "+strings.Join(nemesis.Targets, ", ")+"; per fault as kind=choice, e.g. one,pause=leader")
	fs.Float64Var(&f.lossProbability, "loss-probability", 0.2, "chance, in [0,1], that a loss fault drops a packet to or from a target node")
	fs.StringVar(&f.bandwidth, "bandwidth", "1mbit", "rate a bandwidth fault limits what target nodes send to (tc units: kbit, mbit, gbit, or kbps... for bytes)")
	fs.DurationVar(&f.delay, "delay", 50*time.Millisecond, "latency a delay fault adds to what target nodes send (needs the kernel's netem)")
	fs.StringVar(&f.replay, "replay", "", "a stored run's test.json: run that test again with the same fault schedule (only --store and --name may be given with it)")
}

// apply validates the fault flags into s, whose Target, Nemesis and Nodes
// are already checked. killTargets is --kill-targets, which wins over
// --fault-targets for kills.
func (f *faultFlags) apply(s *harness.Spec, killTargets string) error {
	choices, err := nemesis.ParseFaultTargets(f.targets)
	if err != nil {
		return harness.BadFlag("fault-targets", "%v", err)
	}
	if killTargets != "" {
		if !slices.Contains(nemesis.Targets, killTargets) {
			return harness.BadFlag("kill-targets", "unknown value %q: want one of %s", killTargets, strings.Join(nemesis.Targets, ", "))
		}
		choices["kill"] = killTargets
	}
	s.FaultTargets, s.KillTargets = choices, choices["kill"]
	if !(f.lossProbability >= 0 && f.lossProbability <= 1) {
		return harness.BadFlag("loss-probability", "must be a probability between 0 and 1, got %v", f.lossProbability)
	}
	s.LossProbability, s.Bandwidth, s.Delay = f.lossProbability, f.bandwidth, f.delay
	if slices.Contains(s.Nemesis, "bandwidth") {
		if _, err := nemesis.ParseRate(f.bandwidth); err != nil {
			return harness.BadFlag("bandwidth", "%v", err)
		}
	}
	if slices.Contains(s.Nemesis, "delay") && (f.delay <= 0 || f.delay > 10*time.Second) {
		return harness.BadFlag("delay", "must be a duration between 0 and 10s, such as 50ms, got %v", f.delay)
	}
	if err := nemesis.ValidateFaults(s.Nemesis, s.Nodes); err != nil {
		return harness.BadFlag("nemesis", "%v", err)
	}
	if err := targetCanDo(targetFor(*s), s.Nemesis); err != nil {
		return harness.BadFlag("nemesis", "%v", err)
	}
	return nil
}

// targetCanDo reports the first fault that target t cannot take. Faults
// on processes, machines and the network need only the cluster; a
// membership change needs to know where the store keeps its data and how
// its peers reach a node, which a target offers by being a
// targets.Rejoiner.
func targetCanDo(t targets.Target, faults []string) error {
	if slices.Contains(faults, "member") {
		if _, ok := t.(targets.Rejoiner); !ok {
			return fmt.Errorf("target %s cannot take the fault member: it does not say where its data lives or at which URL its peers reach a node (it is no targets.Rejoiner)", t.Name())
		}
	}
	return nil
}

// scheduleOptions are the nemesis options spec's schedule is drawn with.
func scheduleOptions(spec harness.Spec) nemesis.Options {
	return nemesis.Options{
		Faults: spec.Nemesis, Nodes: spec.Nodes, Layout: spec.Partition,
		KillTargets: spec.KillTargets, KillCount: spec.KillCount, FaultTargets: spec.FaultTargets,
		LossProbability: spec.LossProbability, Bandwidth: spec.Bandwidth, Delay: spec.Delay,
		Interval: spec.NemesisInterval,
	}
}

// networkFaults are the faults that need something of the kernel beyond
// plain iptables.
var networkFaults = []string{"loss", "bandwidth", "delay"}

// checkKernel asks a node what the kernel under the cluster offers, when
// spec enables or schedules a loss, bandwidth or delay fault. It logs the
// answer and records it in spec.Versions["kernel"]. A fault the kernel
// cannot inject (delay without netem, on this machine) is bad input: the
// message says what is missing and what the kernel offers instead, and
// the caller tears the cluster down without running anything.
func checkKernel(ctx context.Context, c harness.Cluster, spec *harness.Spec) error {
	faults := append(slices.Clone(spec.Nemesis), nemesis.ScheduleFaults(spec.Schedule)...)
	if !slices.ContainsFunc(faults, func(f string) bool { return slices.Contains(networkFaults, f) }) {
		return nil
	}
	k, err := nemesis.Probe(ctx, c, c.Nodes()[0])
	if err != nil {
		return err
	}
	logf("kernel: %s", k)
	if spec.Versions == nil {
		spec.Versions = map[string]string{}
	}
	spec.Versions["kernel"] = k.String()
	if err := k.Check(faults); err != nil {
		return badInput{fmt.Errorf("--nemesis: %w", err)}
	}
	return nil
}
