package faultline

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/workloads"
)

// Client modes, the values of --client-mode.
const (
	// ModePinned pins thread i to node i mod N, as Jepsen does.
	ModePinned = "pinned"
	// ModeFailover gives every thread every endpoint; its ops carry
	// harness.FailoverNode as their node.
	ModeFailover = "failover"
	// ModeMixed alternates: even threads are pinned (the k-th pinned
	// thread to node k mod N, so every node gets one), odd ones fail over.
	ModeMixed = "mixed"
)

// ClientModes lists the --client-mode values in --help order.
var ClientModes = []string{ModePinned, ModeFailover, ModeMixed}

// Defaults of the fields Validate fills in when they are zero, as the flags
// of `faultline test` default them. Rate has no default here: zero is
// unlimited.
const (
	DefaultNodes           = 5
	DefaultWorkload        = "register"
	DefaultTarget          = "etcd"
	DefaultPartition       = "minority-leader"
	DefaultTimeLimit       = 60 * time.Second
	DefaultNemesisInterval = 10 * time.Second
	DefaultOpTimeout       = 2 * time.Second
	DefaultCheckTimeout    = 120 * time.Second
	DefaultRecoverTimeout  = 60 * time.Second
	DefaultStore           = "store"
)

// withDefaults fills in the zero fields that have a default.
func withDefaults(s Spec) Spec {
	zero := func(p *string, def string) {
		if *p == "" {
			*p = def
		}
	}
	zero(&s.Target, DefaultTarget)
	zero(&s.Workload, DefaultWorkload)
	zero(&s.Partition, DefaultPartition)
	zero(&s.Store, DefaultStore)
	zero(&s.ClientMode, ModePinned)
	if s.Name == "" {
		s.Name = s.Target + "-" + s.Workload
	}
	if s.Nodes == 0 {
		s.Nodes = DefaultNodes
	}
	if s.Concurrency == 0 {
		s.Concurrency = 2 * s.Nodes
	}
	durations := []struct {
		d   *time.Duration
		def time.Duration
	}{
		{&s.TimeLimit, DefaultTimeLimit}, {&s.OpTimeout, DefaultOpTimeout},
		{&s.CheckTimeout, DefaultCheckTimeout}, {&s.RecoverTimeout, DefaultRecoverTimeout},
	}
	for _, f := range durations {
		if *f.d == 0 {
			*f.d = f.def
		}
	}
	if s.NemesisInterval == 0 && len(s.Nemesis) > 0 {
		s.NemesisInterval = DefaultNemesisInterval
	}
	if s.Seed == 0 {
		s.Seed = time.Now().UnixNano()
	}
	return s
}

// Validate checks a spec whole, before anything is started, and returns it
// with its defaults filled in: the one path every spec takes, from flags,
// from a replayed test.json, from a matrix cell, a scenario or a user's
// Go test. A bad field is a *harness.FlagError naming its flag, quoting
// the value and saying what is allowed; the same bad value gets the same
// message wherever it comes from. extra are the user's own targets.
//
// Options of fault kinds and workloads not in use are checked too, then
// dropped: test.json records only what the run used.
func Validate(s Spec, extra ...targets.Target) (Spec, error) {
	s = withDefaults(s)
	target, err := resolveTarget(s, extra)
	if err != nil {
		return s, err
	}
	def, ok := LookupWorkload(s.Workload)
	if !ok {
		return s, harness.BadValue("workload", s.Workload, "unknown workload: want one of %s", strings.Join(WorkloadNames(), ", "))
	}
	if err := validateFaultNames(s.Nemesis); err != nil {
		return s, err
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	used := slices.Clone(s.Nemesis)
	for _, k := range nemesis.ScheduleFaults(s.Schedule) {
		if !slices.Contains(used, k) {
			used = append(used, k)
		}
	}
	if slices.Contains(s.Nemesis, "partition") {
		if err := nemesis.ValidateLayout(s.Partition, s.Nodes); err != nil {
			return s, harness.BadValue("partition", s.Partition, "%v", err)
		}
	}
	if s.FaultTargets, err = validateFaultTargets(s.FaultTargets, used); err != nil {
		return s, err
	}
	for _, k := range used {
		if c := s.FaultTargets[k]; c == "follower" && s.Nodes < 2 {
			return s, harness.BadValue("fault-targets", k+"="+c, "a one-node cluster has no follower: want --nodes 2 or more, or another choice")
		}
	}
	if s.FaultOptions, err = validateOptions(s.FaultOptions, fault.Options(), optionsOfKinds(used), "fault"); err != nil {
		return s, err
	}
	if kc := s.FaultOptions["kill-count"]; kc != "" {
		if n, _ := harness.ParseIntIn(kc, 0, harness.MaxNodes); n > s.Nodes {
			return s, harness.BadValue("kill-count", kc, "want from 0 to --nodes (%d)", s.Nodes)
		}
	}
	if err := nemesis.ValidateFaults(used, s.Nodes); err != nil {
		return s, harness.BadFlag("nemesis", "%v", err)
	}
	if err := targetCanDo(target, used); err != nil {
		return s, harness.BadFlag("nemesis", "%v", err)
	}
	if s.WorkloadOptions, err = validateOptions(s.WorkloadOptions, WorkloadOptions(), def.Options, "workload"); err != nil {
		return s, err
	}
	if err := workloadOnTarget(def, target, extra); err != nil {
		return s, err
	}
	if def.Check != nil {
		if err := def.Check(workloadEnv(s)); err != nil {
			return s, err
		}
	}
	if !slices.Contains(ClientModes, s.ClientMode) {
		return s, harness.BadValue("client-mode", s.ClientMode, "unknown mode: want one of %s", strings.Join(ClientModes, ", "))
	}
	if len(s.Schedule) > 0 {
		if err := nemesis.ValidateSchedule(s.Schedule, s.Nodes); err != nil {
			return s, harness.BadFlag("replay", "%v", err)
		}
	}
	return s, nil
}

// resolveTarget finds the spec's target among the built-in ones and extra,
// configured as the spec asks (its releases, failpoints, binary, flags and
// bug mode).
func resolveTarget(s Spec, extra []targets.Target) (targets.Target, error) {
	var target targets.Target
	for _, t := range allTargets(extra) {
		if t.Name() == s.Target {
			target = t
		}
	}
	if target == nil {
		return nil, harness.BadValue("target", s.Target, "unknown target: want one of %s", strings.Join(TargetNames(extra...), ", "))
	}
	cfg := targets.Config{Failpoints: s.TargetFailpoints, Binary: s.TargetBinary, Flags: s.TargetFlags, Bug: s.TargetBug}
	if s.TargetVersion != "" {
		for _, v := range strings.Split(s.TargetVersion, ",") {
			cfg.Versions = append(cfg.Versions, strings.TrimSpace(v))
		}
	}
	if cfg.IsZero() {
		return target, nil
	}
	c, ok := target.(targets.Configurable)
	if !ok {
		return nil, harness.BadFlag(firstConfigFlag(cfg), "target %s takes no versions, failpoints, binary, flags or bug modes", s.Target)
	}
	if s.TargetBug != "" {
		if _, ok := target.(targets.Bugged); !ok {
			var with []string
			for _, t := range allTargets(extra) {
				if b, ok := t.(targets.Bugged); ok {
					with = append(with, fmt.Sprintf("%s has %s", t.Name(), strings.Join(b.BugModes(), ", ")))
				}
			}
			return nil, harness.BadValue("target-bug", s.TargetBug, "target %s has no bug modes (%s)", s.Target, strings.Join(with, "; "))
		}
	}
	return c.Configure(cfg)
}

// firstConfigFlag names the flag of the first thing cfg asks.
func firstConfigFlag(cfg targets.Config) string {
	switch {
	case len(cfg.Versions) > 0:
		return "target-version"
	case cfg.Failpoints:
		return "target-failpoints"
	case cfg.Binary != "":
		return "target-binary"
	case len(cfg.Flags) > 0:
		return "target-flag"
	}
	return "target-bug"
}

// Target returns the target a valid spec runs against.
func Target(s Spec, extra ...targets.Target) (targets.Target, error) {
	return resolveTarget(withDefaults(s), extra)
}

// validateFaultNames checks the kinds named in --nemesis: known, each once.
func validateFaultNames(names []string) error {
	for i, n := range names {
		if _, ok := fault.Lookup(n); !ok {
			return harness.BadValue("nemesis", n, "unknown fault: want none, or a comma-separated list of %s", strings.Join(fault.Names(), ", "))
		}
		if slices.Contains(names[:i], n) {
			return harness.BadValue("nemesis", n, "fault named twice")
		}
	}
	return nil
}

// validateFaultTargets checks the target choices and fills in "one" for
// every targeted kind without one. A kind in use that takes only some
// choices (corrupt takes no majority) refuses the others.
func validateFaultTargets(choices map[string]string, used []string) (map[string]string, error) {
	out := map[string]string{}
	for kind, choice := range choices {
		if !slices.Contains(fault.Targeted(), kind) {
			return nil, harness.BadValue("fault-targets", kind+"="+choice, "fault %s takes no targets: the kinds that do are %s", kind, strings.Join(fault.Targeted(), ", "))
		}
		if !slices.Contains(fault.Choices, choice) {
			return nil, harness.BadValue("fault-targets", kind+"="+choice, "unknown target choice: want one of %s", strings.Join(fault.Choices, ", "))
		}
		out[kind] = choice
	}
	for _, k := range fault.Targeted() {
		if out[k] == "" {
			out[k] = "one"
		}
		kind, _ := fault.Lookup(k)
		if slices.Contains(used, k) && kind.TargetChoices != nil && !slices.Contains(kind.TargetChoices, out[k]) {
			return nil, harness.BadValue("fault-targets", k+"="+out[k], "fault %s takes only %s", k, strings.Join(kind.TargetChoices, ", "))
		}
	}
	return out, nil
}

// optionsOfKinds lists the options of the named fault kinds.
func optionsOfKinds(kinds []string) []harness.Option {
	var out []harness.Option
	for _, name := range kinds {
		k, _ := fault.Lookup(name)
		out = append(out, k.Options...)
	}
	return out
}

// validateOptions checks every value in given against its option among
// all (of which) and returns the values of the options in use, each set:
// the given value, or the default.
func validateOptions(given harness.Options, all, inUse []harness.Option, of string) (harness.Options, error) {
	for _, name := range given.Names() {
		i := slices.IndexFunc(all, func(o harness.Option) bool { return o.Name == name })
		if i < 0 {
			var names []string
			for _, o := range all {
				names = append(names, o.Name)
			}
			return nil, harness.BadFlag(name, "no %s has this option: the %s options are %s", of, of, strings.Join(names, ", "))
		}
		if err := all[i].Validate(given[name]); err != nil {
			return nil, err
		}
	}
	if len(inUse) == 0 {
		return nil, nil
	}
	out := harness.Options{}
	for _, o := range inUse {
		out[o.Name] = given.Get(o.Name, o.Default)
	}
	return out, nil
}

// targetCanDo reports the first fault that target t cannot take: a kind
// that needs a power (fault.Need) the target lacks.
func targetCanDo(t targets.Target, faults []string) error {
	for _, name := range faults {
		k, _ := fault.Lookup(name)
		for _, need := range k.Needs {
			switch need {
			case fault.NeedRejoin:
				if rj, ok := t.(targets.Rejoiner); !ok || rj.DataDir() == "" {
					return fmt.Errorf("target %s cannot take the fault %s: it does not say where its data lives or at which URL its peers reach a node (it is no targets.Rejoiner)", t.Name(), name)
				}
			case fault.NeedBuilds:
				if v, ok := t.(targets.Versioned); !ok || len(v.Builds()) < 2 {
					return fmt.Errorf("target %s cannot take the fault %s: it holds one build of the store (give --target-version two releases or more, such as v3.5.21,v3.6.5)", t.Name(), name)
				}
			case fault.NeedDisk:
				if dl, ok := t.(targets.DiskLayout); !ok || len(dl.DataFiles()) == 0 {
					return fmt.Errorf("target %s cannot take the fault %s: it does not say where its durable files lie (it is no targets.DiskLayout)", t.Name(), name)
				}
			case fault.NeedFailpoints:
				if fs, ok := t.(targets.FailpointServer); !ok || fs.FailpointPort() == 0 {
					return fmt.Errorf("target %s cannot take the fault %s: its build has no failpoints (give --target-failpoints to build etcd with gofail)", t.Name(), name)
				}
			default:
				if !slices.Contains(targets.MaintenanceCallsOf(t), string(need)) {
					return fmt.Errorf("target %s cannot take the fault %s: its store takes no %s call (it takes %s)", t.Name(), name, need, strings.Join(targets.MaintenanceCallsOf(t), ", "))
				}
			}
		}
	}
	return nil
}

// workloadOnTarget refuses a workload the target cannot serve, naming the
// APIs it lacks and the workloads it can serve.
func workloadOnTarget(def workloads.Definition, t targets.Target, extra []targets.Target) error {
	missing := missingAPIs(def, t)
	if len(missing) == 0 {
		return nil
	}
	var able []string
	for _, w := range Workloads {
		if len(missingAPIs(w, t)) == 0 {
			able = append(able, w.Name)
		}
	}
	var names []string
	for _, api := range missing {
		names = append(names, string(api))
	}
	apis := "API"
	if len(missing) > 1 {
		apis = "APIs"
	}
	var serve []string
	for _, other := range allTargets(extra) {
		if len(missingAPIs(def, other)) == 0 {
			serve = append(serve, other.Name())
		}
	}
	return harness.BadValue("workload", def.Name, "%s needs etcd's %s %s, which target %s does not implement; run it against --target %s, or pick a workload %s serves: %s",
		def.Name, strings.Join(names, " and "), apis, t.Name(), strings.Join(serve, " or "), t.Name(), strings.Join(able, ", "))
}

// missingAPIs lists the APIs def needs that t lacks.
func missingAPIs(def workloads.Definition, t targets.Target) []harness.API {
	has := targets.APIsOf(t)
	var missing []harness.API
	for _, api := range def.Needs {
		if !slices.Contains(has, api) {
			missing = append(missing, api)
		}
	}
	return missing
}
