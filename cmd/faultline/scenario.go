package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
)

// scenarioCommand lists the named scenarios or runs one: `faultline
// scenario list` and `faultline scenario run NAME [--test-count N]`.
func scenarioCommand(args []string) (int, error) {
	if len(args) == 0 {
		return 0, badInput{fmt.Errorf("scenario needs a subcommand: list, run NAME [--release affected|fixed] [--test-count N] [--seed S] [--store DIR], or regressions [--test-count N]")}
	}
	switch args[0] {
	case "list":
		if len(args) > 1 {
			return 0, badInput{fmt.Errorf("scenario list takes no arguments, got %s", harness.Quote(args[1]))}
		}
		return scenarioList()
	case "run":
		return scenarioRun(args[1:])
	case "regressions":
		return regressionsRun(args[1:])
	}
	return 0, badInput{fmt.Errorf("unknown scenario subcommand %s: want list, run or regressions", harness.Quote(args[0]))}
}

// scenarioList prints every scenario: name, what it expects, what it is.
func scenarioList() (int, error) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tEXPECT\tTARGET\tNODES\tWORKLOAD\tFAULTS\tSECONDS\tSUMMARY")
	for _, sc := range faultline.Scenarios {
		s := sc.Spec
		faults := strings.Join(s.Nemesis, ",")
		if faults == "" {
			faults = "none"
		}
		target := s.Target
		if s.TargetBug != "" {
			target += " --target-bug " + s.TargetBug
		}
		expect := results.Verdict(sc.Expect)
		if len(sc.Caught) > 0 {
			expect += " (" + strings.Join(sc.Caught, ",") + ")"
		}
		if b := sc.Bug; b != nil {
			target += " " + b.Affected + "|" + b.Fixed
			expect = fmt.Sprintf("%s on %s, VALID on %s (%s)", expect, b.Affected, b.Fixed, b.Issue)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%.0f\t%s\n", sc.Name, expect, target, s.Nodes, s.Workload, faults, s.TimeLimit.Seconds(), sc.Summary)
	}
	return 0, w.Flush()
}

// scenarioRun runs one scenario N times and prints the runs' table, a
// tally and whether each run met the scenario's expectation. Its exit code
// is 0 when every run met it, 1 when one did not, and the harness's codes
// otherwise.
func scenarioRun(args []string) (int, error) {
	fs := newFlagSet("scenario run", "scenario run NAME [--release affected|fixed] [--test-count N] [--seed S] [--store DIR]")
	count := fs.String("test-count", "1", "run the scenario this many times (1..1000), with seeds S, S+1, ...")
	release := fs.String("release", "", "for a scenario of a real bug: run it on the affected release (the default; it must be invalid) or the fixed one (it must be valid)")
	seed := fs.String("seed", "0", "seed of the first run; 0 draws one from the clock")
	store := fs.String("store", faultline.DefaultStore, "run store directory")
	name, rest := "", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, rest = args[0], args[1:]
	}
	if err := parseFlags(fs, rest); err != nil {
		return 0, err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	sc, ok := faultline.LookupScenario(name)
	if !ok {
		return 0, badInput{fmt.Errorf("unknown scenario %s: want one of %s (see 'faultline scenario list')", harness.Quote(name), strings.Join(faultline.ScenarioNames(), ", "))}
	}
	n, err := harness.ParseIntIn(*count, 1, 1000)
	if err != nil {
		return 0, harness.BadValue("test-count", *count, "want a number of runs from 1 to 1000")
	}
	if sc, err = sc.On(*release); err != nil {
		return 0, err
	}
	spec := sc.Spec
	spec.Name, spec.Store = sc.Name, *store
	if spec.Seed, err = parseSeed(*seed); err != nil {
		return 0, err
	}
	if err := checkStore(spec.Store); err != nil {
		return 0, err
	}
	if spec, err = faultline.Validate(spec); err != nil {
		return 0, err
	}
	cells := make([]matrixCell, n)
	for i := range cells {
		cells[i].spec = spec
		cells[i].spec.Seed = spec.Seed + int64(i)
		cells[i].scenario = &sc
	}
	ctx, sig := signalContext()
	defer sig.stop()
	title := fmt.Sprintf("faultline scenario %s x%d: %s, seeds %d..%d", sc.Name, n, sc.Summary, spec.Seed, spec.Seed+int64(n-1))
	if sc.Bug != nil {
		title = fmt.Sprintf("faultline scenario %s x%d on etcd %s (%s, expect %s): seeds %d..%d", sc.Name, n, spec.TargetVersion, sc.Bug.Issue, results.Verdict(sc.Expect), spec.Seed, spec.Seed+int64(n-1))
	}
	return sig.code(runMatrix(ctx, title, spec.Store, cells))
}
