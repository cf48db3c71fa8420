package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/etcd"
)

// testFlags are the raw flags of 'faultline test', as typed. Numbers are
// kept as text so that a bad one is quoted as it was typed, never as a
// converted number; faultline.Validate checks the spec they make.
type testFlags struct {
	target, targetBug, workload, nemesis, partition, concurrency string
	faultTargets, killTargets, name, store, clientMode, replay   string
	nodes, timeLimit, rate, interval, opTimeout, checkTimeout    string
	recoverTimeout, availabilityGrace, majorityGapBound, seed    string
	quorumRestoreBound                                           string
	targetVersion, targetBinary                                  string
	serializable, targetFailpoints                               bool
	targetFlags                                                  listFlag
	// options holds the value of every fault and workload option flag.
	options map[string]*string
	// typed holds the flags given on the command line, as typed.
	typed map[string]string
}

func (f *testFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.target, "target", faultline.DefaultTarget, "store under test: "+strings.Join(faultline.TargetNames(), ", "))
	fs.StringVar(&f.targetBug, "target-bug", "", "bug mode passed to the target ("+bugModesHelp()+")")
	fs.StringVar(&f.targetVersion, "target-version", "", "the target's releases the nodes run, in turn: V or A,B (etcd: any release from v3.5.0, e.g. v3.5.2; default "+etcd.DefaultVersion+")")
	fs.BoolVar(&f.targetFailpoints, "target-failpoints", false, "build the target with its failpoints compiled in (etcd: gofail), for the failpoint fault")
	fs.StringVar(&f.targetBinary, "target-binary", "", "host path of a build of the target of your own (etcd or kvnode), layered on the base image")
	fs.Var(&f.targetFlags, "target-flag", "an extra flag for every node's DB process, NAME=VALUE (repeatable), e.g. snapshot-count=100")
	fs.StringVar(&f.nodes, "nodes", "5", fmt.Sprintf("cluster size, 1..%d", harness.MaxNodes))
	fs.StringVar(&f.workload, "workload", faultline.DefaultWorkload, "workload: "+strings.Join(faultline.WorkloadNames(), ", "))
	fs.StringVar(&f.nemesis, "nemesis", "partition,kill", "faults: none, or a comma-separated list of "+strings.Join(fault.Names(), ", "))
	fs.StringVar(&f.partition, "partition", faultline.DefaultPartition, "partition layout: "+strings.Join(nemesis.Layouts, ", ")+", or explicit groups such as n1,n2|n3,n4,n5")
	fs.StringVar(&f.faultTargets, "fault-targets", "one", "nodes a targeted fault ("+strings.Join(fault.Targeted(), ", ")+") hits: "+strings.Join(fault.Choices, ", ")+"; per fault as kind=choice, e.g. one,pause=leader")
	fs.StringVar(&f.killTargets, "kill-targets", "", "nodes a kill hits: "+strings.Join(fault.Choices, ", ")+" (default: --fault-targets)")
	fs.StringVar(&f.timeLimit, "time-limit", "60", "seconds of workload, more than 0 and at most 86400")
	fs.StringVar(&f.concurrency, "concurrency", "2n", fmt.Sprintf("client threads: a number, or Kn meaning K x --nodes; 1..%d in all", harness.MaxConcurrency))
	fs.StringVar(&f.rate, "rate", "200", fmt.Sprintf("target invocations per second over all clients, 0..%d; 0 = unlimited", harness.MaxRate))
	fs.StringVar(&f.interval, "nemesis-interval", "10", "seconds between two nemesis steps (a fault's start and its stop, or the next fault), at most 3600")
	fs.StringVar(&f.opTimeout, "op-timeout", "2", "seconds before a client op is abandoned (a write becomes info, a read fail), at most 600")
	fs.StringVar(&f.checkTimeout, "check-timeout", "120", "seconds the linearizability check may take before it answers unknown, at most 86400")
	fs.StringVar(&f.recoverTimeout, "recover-timeout", "60", "seconds to wait for the cluster to recover after the final heal, at most 3600")
	fs.StringVar(&f.seed, "seed", "0", "seed for ops, stagger and faults; 0 draws one from the clock (it is recorded in test.json)")
	fs.StringVar(&f.clientMode, "client-mode", faultline.ModePinned, "how clients reach the cluster: "+strings.Join(faultline.ClientModes, ", ")+" (pinned: thread i to node i mod N; failover: every endpoint; mixed: alternate threads)")
	fs.StringVar(&f.availabilityGrace, "availability-grace", "0", "seconds after a fault is in force that a minority may still answer a linearizable op, at most 600; 0 = one election timeout + --op-timeout")
	fs.StringVar(&f.majorityGapBound, "majority-gap-bound", "0", "longest time in seconds a majority may accept no write while its clients wait, at most 3600; 0 = two election timeouts + --op-timeout + 4 (8 for etcd)")
	fs.StringVar(&f.quorumRestoreBound, "quorum-restore-bound", "0", "longest time in seconds the cluster may take to serve again once a fault op gives a quorum back to a cluster that had none, at most 3600; 0 = --majority-gap-bound + 12 (20 for etcd)")
	fs.BoolVar(&f.serializable, "serializable", false, "serializable (local, possibly stale) reads instead of linearizable ones")
	fs.StringVar(&f.name, "name", "", fmt.Sprintf("test name, the store sub-directory (default TARGET-WORKLOAD); at most %d characters", harness.MaxNameLength))
	fs.StringVar(&f.store, "store", faultline.DefaultStore, "run store directory")
	fs.StringVar(&f.replay, "replay", "", "a stored run's test.json: run that test again with the same fault schedule (only --store and --name may be given with it)")
	f.options = map[string]*string{}
	for _, o := range append(fault.Options(), faultline.WorkloadOptions()...) {
		v := new(string)
		fs.StringVar(v, o.Name, o.Default, o.Usage)
		f.options[o.Name] = v
	}
}

// noteTyped records which flags of fs were given on the command line.
func (f *testFlags) noteTyped(fs *flag.FlagSet) {
	f.typed = map[string]string{}
	fs.Visit(func(fl *flag.Flag) { f.typed[fl.Name] = fl.Value.String() })
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

// spec builds the test's spec from the flags and validates it through
// faultline.Validate, the path every spec takes. Every error names the
// flag, quotes what was typed and says what is allowed; nothing has been
// started yet.
func (f *testFlags) spec() (harness.Spec, error) {
	s, err := f.rawSpec()
	if err != nil {
		return s, f.asTyped(err)
	}
	s, err = faultline.Validate(s)
	return s, f.asTyped(err)
}

// rawSpec converts the flags into a spec, refusing only what cannot be
// converted at all.
func (f *testFlags) rawSpec() (harness.Spec, error) {
	s := harness.Spec{
		Target: f.target, TargetBug: f.targetBug, Workload: f.workload, Partition: f.partition,
		TargetVersion: f.targetVersion, TargetFailpoints: f.targetFailpoints, TargetBinary: f.targetBinary, TargetFlags: f.targetFlags,
		Serializable: f.serializable, Store: f.store, Name: f.name, ClientMode: f.clientMode,
	}
	for _, name := range []string{"target", "workload", "client-mode", "partition", "nemesis", "fault-targets"} {
		if text, ok := f.typed[name]; ok && strings.TrimSpace(text) == "" {
			return s, harness.BadValue(name, text, "must not be empty (leave the flag out for its default)")
		}
	}
	var err error
	if s.Nodes, err = strconv.Atoi(f.nodes); err != nil || s.Nodes < 1 || s.Nodes > harness.MaxNodes {
		return s, harness.BadValue("nodes", f.nodes, "want a cluster size from 1 to %d", harness.MaxNodes)
	}
	if s.Nemesis, err = fault.ParseList(f.nemesis); err != nil {
		return s, harness.BadFlag("nemesis", "%v", err)
	}
	if s.FaultTargets, err = fault.ParseTargets(f.faultTargets); err != nil {
		return s, harness.BadFlag("fault-targets", "%v", err)
	}
	if f.killTargets != "" {
		if !slices.Contains(fault.Choices, f.killTargets) {
			return s, harness.BadValue("kill-targets", f.killTargets, "want one of %s", strings.Join(fault.Choices, ", "))
		}
		s.FaultTargets["kill"] = f.killTargets
	}
	if s.Concurrency, err = harness.ParseConcurrency(f.concurrency, s.Nodes); err != nil {
		return s, err
	}
	if s.Rate, err = harness.ParseFloatIn(f.rate, 0, harness.MaxRate); err != nil {
		return s, harness.BadValue("rate", f.rate, "want invocations per second from 0 (unlimited) to %d", harness.MaxRate)
	}
	if s.Seed, err = parseSeed(f.seed); err != nil {
		return s, err
	}
	// Zero means "the default" to faultline.Validate; on the command line
	// the default is written out, so a typed 0 is refused where zero is
	// not a value of its own.
	for _, d := range []struct {
		flag, text string
		into       *time.Duration
		max        time.Duration
		zeroOK     bool
	}{
		{"time-limit", f.timeLimit, &s.TimeLimit, harness.MaxTimeLimit, false},
		{"nemesis-interval", f.interval, &s.NemesisInterval, harness.MaxInterval, len(s.Nemesis) == 0},
		{"op-timeout", f.opTimeout, &s.OpTimeout, harness.MaxOpTimeout, false},
		{"check-timeout", f.checkTimeout, &s.CheckTimeout, harness.MaxCheck, false},
		{"recover-timeout", f.recoverTimeout, &s.RecoverTimeout, harness.MaxRecover, false},
		{"availability-grace", f.availabilityGrace, &s.AvailabilityGrace, harness.MaxGrace, true},
		{"majority-gap-bound", f.majorityGapBound, &s.MajorityGapBound, harness.MaxGapBound, true},
		{"quorum-restore-bound", f.quorumRestoreBound, &s.QuorumRestoreBound, harness.MaxGapBound, true},
	} {
		if *d.into, err = harness.ParseSeconds(d.flag, d.text); err != nil {
			return s, err
		}
		if *d.into == 0 {
			if err := harness.CheckSeconds(d.flag, 0, d.max, d.zeroOK); err != nil {
				return s, err
			}
		}
	}
	for _, o := range fault.Options() {
		if _, ok := f.typed[o.Name]; ok {
			if s.FaultOptions == nil {
				s.FaultOptions = harness.Options{}
			}
			s.FaultOptions[o.Name] = *f.options[o.Name]
		}
	}
	for _, o := range faultline.WorkloadOptions() {
		if _, ok := f.typed[o.Name]; ok {
			if s.WorkloadOptions == nil {
				s.WorkloadOptions = harness.Options{}
			}
			s.WorkloadOptions[o.Name] = *f.options[o.Name]
		}
	}
	if err := checkStore(s.Store); err != nil {
		return s, err
	}
	return s, nil
}

// asTyped shows, in a bad-value message about a flag given on the command
// line, the text typed rather than the value it was converted to.
func (f *testFlags) asTyped(err error) error {
	var fe *harness.FlagError
	if errors.As(err, &fe) && fe.Value != "" {
		if text, ok := f.typed[fe.Flag]; ok {
			fe.Value = harness.Quote(text)
		}
	}
	return err
}

// checkStore refuses a --store that exists and is not a directory, before
// anything starts.
func checkStore(store string) error {
	if store == "" {
		return harness.BadFlag("store", "must name a directory")
	}
	if fi, err := os.Stat(store); err == nil && !fi.IsDir() {
		return harness.BadValue("store", store, "is a file, not a directory")
	}
	return nil
}

// parseSeed reads --seed: a whole number; 0 draws one from the clock.
func parseSeed(text string) (int64, error) {
	seed, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, harness.BadValue("seed", text, "want a whole number (0 draws one from the clock)")
	}
	return seed, nil
}

// bugModesHelp lists each built-in target's bug modes, for --help.
func bugModesHelp() string {
	var parts []string
	for _, t := range faultline.BuiltinTargets() {
		if b, ok := t.(targets.Bugged); ok {
			parts = append(parts, t.Name()+": "+strings.Join(b.BugModes(), ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }

// Set appends one value.
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}
