package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
)

// testFlags are the raw flags of 'faultline test', before validation.
type testFlags struct {
	target, targetBug, workload, nemesis, partition, concurrency string
	killTargets, name, store, clientMode                         string
	nodes, killCount                                             int
	timeLimit, rate, interval, opTimeout, checkTimeout           float64
	recoverTimeout, availabilityGrace, majorityGapBound          float64
	seed                                                         int64
	serializable                                                 bool
	faults                                                       faultFlags
	workloads                                                    workloadFlags
}

func (f *testFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.target, "target", "etcd", "store under test: "+strings.Join(targetNames(), ", "))
	fs.StringVar(&f.targetBug, "target-bug", "", "bug mode passed to the target (kvnode: stale-read, early-ack, lost-restart)")
	fs.IntVar(&f.nodes, "nodes", 5, "cluster size, 1..9")
	fs.StringVar(&f.workload, "workload", "register", "workload: "+strings.Join(workloadNames(), ", "))
	fs.StringVar(&f.nemesis, "nemesis", "partition,kill", "faults: none, or a comma-separated list of "+strings.Join(nemesis.Faults, ", "))
	fs.StringVar(&f.partition, "partition", "halves", "partition layout: "+strings.Join(nemesis.Layouts, ", ")+", or explicit groups such as n1,n2|n3,n4,n5")
	fs.StringVar(&f.killTargets, "kill-targets", "", "nodes a kill hits: "+strings.Join(nemesis.Targets, ", ")+" (default: --fault-targets)")
	fs.IntVar(&f.killCount, "kill-count", 0, "kill exactly this many nodes (overrides --kill-targets; 0 = use --kill-targets)")
	fs.Float64Var(&f.timeLimit, "time-limit", 60, "seconds of workload")
	fs.StringVar(&f.concurrency, "concurrency", "2n", "client threads: a number, or Kn meaning K x --nodes")
	fs.Float64Var(&f.rate, "rate", 200, "target invocations per second over all clients; 0 = unlimited")
	fs.Float64Var(&f.interval, "nemesis-interval", 10, "seconds between two nemesis steps (a fault's start and its stop, or the next fault)")
	fs.Float64Var(&f.opTimeout, "op-timeout", 2, "seconds before a client op is abandoned (a write becomes info, a read fail)")
	fs.Float64Var(&f.checkTimeout, "check-timeout", 120, "seconds the linearizability check may take before it answers unknown")
	fs.Float64Var(&f.recoverTimeout, "recover-timeout", 60, "seconds to wait for the cluster to recover after the final heal")
	fs.Int64Var(&f.seed, "seed", 0, "seed for ops, stagger and faults; 0 draws one from the clock (it is recorded in test.json)")
	fs.StringVar(&f.clientMode, "client-mode", modePinned, "how clients reach the cluster: "+strings.Join(clientModes, ", ")+" (pinned: thread i to node i mod N; failover: every endpoint; mixed: alternate threads)")
	fs.Float64Var(&f.availabilityGrace, "availability-grace", 0, "seconds after a fault is in force that a minority may still answer a linearizable op; 0 = one election timeout + --op-timeout")
	fs.Float64Var(&f.majorityGapBound, "majority-gap-bound", 0, "longest time in seconds a majority may accept no write while its clients wait; 0 = two election timeouts + --op-timeout + 4 (8 for etcd)")
	fs.BoolVar(&f.serializable, "serializable", false, "serializable (local, possibly stale) reads instead of linearizable ones")
	fs.StringVar(&f.name, "name", "", "test name, the store sub-directory (default TARGET-WORKLOAD)")
	fs.StringVar(&f.store, "store", "store", "run store directory")
	f.faults.register(fs)
	f.workloads.register(fs)
}

// newFlagSet returns a flag set that reports its own errors as bad input
// and prints help to stdout.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(os.Stdout, "usage: faultline %s\n\nflags:\n", synopsis)
		fs.SetOutput(os.Stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags parses args into fs, turning the flag package's errors into
// bad input that points at --help.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			// Parse has already printed the usage.
			return errHelp
		}
		return badInput{fmt.Errorf("%v (see 'faultline %s --help')", err, fs.Name())}
	}
	return nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// spec validates the flags and builds the test's spec. Every error names
// the flag and what it allows; nothing has been started yet.
func (f *testFlags) spec() (harness.Spec, error) {
	s := harness.Spec{
		Target: f.target, TargetBug: f.targetBug, Nodes: f.nodes, Workload: f.workload,
		Partition: f.partition, KillCount: f.killCount,
		TimeLimit: seconds(f.timeLimit), Rate: f.rate, NemesisInterval: seconds(f.interval),
		OpTimeout: seconds(f.opTimeout), CheckTimeout: seconds(f.checkTimeout),
		RecoverTimeout: seconds(f.recoverTimeout), Seed: f.seed, Serializable: f.serializable,
		Store: f.store, Name: f.name, ClientMode: f.clientMode,
		AvailabilityGrace: seconds(f.availabilityGrace), MajorityGapBound: seconds(f.majorityGapBound),
	}
	if !slices.Contains(targetNames(), f.target) {
		return s, harness.BadFlag("target", "unknown target %q: want one of %s", f.target, strings.Join(targetNames(), ", "))
	}
	if !slices.Contains(workloadNames(), f.workload) {
		return s, harness.BadFlag("workload", "unknown workload %q: want one of %s", f.workload, strings.Join(workloadNames(), ", "))
	}
	faults, err := nemesis.ParseFaults(f.nemesis)
	if err != nil {
		return s, harness.BadFlag("nemesis", "%v", err)
	}
	s.Nemesis = faults
	if f.nodes < 1 {
		return s, harness.BadFlag("nodes", "must be at least 1, got %d", f.nodes)
	}
	if slices.Contains(faults, "partition") {
		if err := nemesis.ValidateLayout(f.partition, f.nodes); err != nil {
			return s, harness.BadFlag("partition", "%v", err)
		}
	}
	if err := f.faults.apply(&s, f.killTargets); err != nil {
		return s, err
	}
	if s.Concurrency, err = harness.ParseConcurrency(f.concurrency, f.nodes); err != nil {
		return s, err
	}
	if f.checkTimeout <= 0 {
		return s, harness.BadFlag("check-timeout", "must be a positive number of seconds, got %v", f.checkTimeout)
	}
	if f.recoverTimeout <= 0 {
		return s, harness.BadFlag("recover-timeout", "must be a positive number of seconds, got %v", f.recoverTimeout)
	}
	if err := validateClientMode(f.clientMode); err != nil {
		return s, err
	}
	if f.availabilityGrace < 0 {
		return s, harness.BadFlag("availability-grace", "must be 0 (the default) or a positive number of seconds, got %v", f.availabilityGrace)
	}
	if f.majorityGapBound < 0 {
		return s, harness.BadFlag("majority-gap-bound", "must be 0 (the default) or a positive number of seconds, got %v", f.majorityGapBound)
	}
	if err := validateTargetBug(f.target, f.targetBug); err != nil {
		return s, err
	}
	if err := f.workloads.apply(&s); err != nil {
		return s, err
	}
	if s.Name == "" {
		s.Name = f.target + "-" + f.workload
	}
	if err := checkName(s.Name); err != nil {
		return s, err
	}
	if s.Seed == 0 {
		s.Seed = time.Now().UnixNano()
	}
	return s, s.Validate()
}

// checkName refuses a test name that is not a plain directory name of the
// store: the name is the run's parent directory, and latest is a link.
func checkName(name string) error {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." || name == "latest" {
		return harness.BadFlag("name", "must be a plain directory name other than latest, got %q", name)
	}
	return nil
}
