package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/results"
)

// matrixSwept are the test flags the matrix sweeps itself (as --targets,
// --nodes and --layouts) or sets per cell (--name); every other test flag
// applies to every cell.
var matrixSwept = map[string]bool{"target": true, "nodes": true, "partition": true, "name": true, "replay": true}

// matrixDefaults are the test flags whose defaults differ in a matrix: it
// compares partition layouts, in short cells.
var matrixDefaults = map[string]string{"nemesis": "partition", "time-limit": "30"}

// matrixCell is one planned cell: its spec, or why it is skipped.
type matrixCell struct {
	spec harness.Spec
	skip string
	// scenario, when set, is the scenario the cell runs: the run must
	// meet its expectation.
	scenario *faultline.Scenario
}

// matrixCommand runs every combination of targets, node counts and
// partition layouts as an ordinary run, then writes and prints a table
// comparing them. Its exit code is the worst of the cells'.
func matrixCommand(args []string) (int, error) {
	fs := newFlagSet("matrix", "matrix [--targets T,...] [--nodes N,...] [--layouts L,...] [test flags]")
	var f testFlags
	cellFlags := flag.NewFlagSet("cell", flag.ContinueOnError)
	f.register(cellFlags)
	cellFlags.VisitAll(func(fl *flag.Flag) {
		if matrixSwept[fl.Name] {
			return
		}
		if def, ok := matrixDefaults[fl.Name]; ok {
			_ = fl.Value.Set(def)
			fl.DefValue = def
		}
		fs.Var(fl.Value, fl.Name, fl.Usage)
	})
	targetList := fs.String("targets", "etcd", "comma-separated targets: "+strings.Join(faultline.TargetNames(), ", "))
	nodeList := fs.String("nodes", "3,5,7", "comma-separated cluster sizes, each 1..9")
	layoutList := fs.String("layouts", "halves,minority-leader,bridge,majorities-ring", "comma-separated partition layouts: "+strings.Join(nemesis.Layouts, ", "))
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	f.noteTyped(fs)
	if fs.NArg() > 0 {
		return 0, badInput{fmt.Errorf("unexpected argument %s: faultline matrix takes only flags (see --help)", harness.Quote(fs.Arg(0)))}
	}
	cells, err := planMatrix(f, *targetList, *nodeList, *layoutList)
	if err != nil {
		return 0, err
	}
	ctx, sig := signalContext()
	defer sig.stop()
	title := fmt.Sprintf("faultline matrix: %s x nodes %s x %s, workload %s, %v per cell, seed %d",
		*targetList, *nodeList, *layoutList, f.workload, cells[0].spec.TimeLimit, cells[0].spec.Seed)
	return sig.code(runMatrix(ctx, title, f.store, cells))
}

// planMatrix validates the lists and every cell's spec before anything
// starts. A layout that does not fit a node count (majorities-ring on 3
// nodes) skips that cell; any other bad value is bad input.
func planMatrix(f testFlags, targetList, nodeList, layoutList string) ([]matrixCell, error) {
	targets, err := splitList("targets", targetList, func(t string) error {
		if !slices.Contains(faultline.TargetNames(), t) {
			return fmt.Errorf("unknown target %s: want one of %s", harness.Quote(t), strings.Join(faultline.TargetNames(), ", "))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	nodeNames, err := splitList("nodes", nodeList, func(n string) error {
		if v, err := strconv.Atoi(n); err != nil || v < 1 || v > harness.MaxNodes {
			return fmt.Errorf("want cluster sizes 1..%d, got %s", harness.MaxNodes, harness.Quote(n))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	layouts, err := splitList("layouts", layoutList, func(l string) error {
		if !slices.Contains(nemesis.Layouts, l) {
			return fmt.Errorf("unknown layout %s: want some of %s", harness.Quote(l), strings.Join(nemesis.Layouts, ", "))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	faults, err := fault.ParseList(f.nemesis)
	if err != nil {
		return nil, harness.BadFlag("nemesis", "%v", err)
	}
	if !slices.Contains(faults, "partition") {
		layouts = []string{""} // nothing to sweep: the layout is never used
	}
	if f.seed == "0" || f.seed == "" {
		f.seed = strconv.FormatInt(time.Now().UnixNano(), 10)
	}
	var cells []matrixCell
	for _, target := range targets {
		for _, n := range nodeNames {
			for _, layout := range layouts {
				cf := f
				cf.target, cf.nodes, cf.partition = target, n, layout
				cf.name = fmt.Sprintf("%s-n%s-%s", target, n, layout)
				if layout == "" {
					cf.partition = "halves"
					cf.name = fmt.Sprintf("%s-n%s-%s", target, n, faultSlug(f))
				}
				spec, err := cf.spec()
				var fe *harness.FlagError
				switch {
				case errors.As(err, &fe) && fe.Flag == "partition":
					cells = append(cells, matrixCell{spec: spec, skip: fe.Msg})
				case err != nil:
					return nil, err
				default:
					cells = append(cells, matrixCell{spec: spec})
				}
			}
		}
	}
	return cells, nil
}

// faultSlug names the faults of a matrix without partitions, for its
// cells' test names: etcd-n5-kill-majority.
func faultSlug(f testFlags) string {
	slug := strings.ReplaceAll(f.nemesis, ",", "+")
	switch {
	case *f.options["kill-count"] != "0" && *f.options["kill-count"] != "":
		slug += "-" + *f.options["kill-count"]
	case f.killTargets != "":
		slug += "-" + f.killTargets
	}
	return slug
}

// splitList splits a comma-separated flag value, checks every item and
// refuses repeats.
func splitList(flagName, value string, check func(string) error) ([]string, error) {
	var out []string
	for _, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, harness.BadFlag(flagName, "empty item in %s", harness.Quote(value))
		}
		if err := check(item); err != nil {
			return nil, harness.BadFlag(flagName, "%v", err)
		}
		if slices.Contains(out, item) {
			return nil, harness.BadValue(flagName, item, "named twice in %s", harness.Quote(value))
		}
		out = append(out, item)
	}
	return out, nil
}

// runMatrix runs the cells one after another through one test environment
// (one sweep, each image built once), rewriting the table after every
// cell so that an interrupted matrix leaves its figures so far.
//
// Cells that run a scenario are held to its expectation: the tally says
// how many met it, and the exit code is 0 only when every one did.
func runMatrix(ctx context.Context, title, store string, cells []matrixCell) (int, error) {
	began := time.Now()
	dir := filepath.Join(store, "matrix", began.UTC().Format(results.TimeFormat))
	table := results.Table{Title: title, Created: began}
	logf("matrix: %d cells, table in %s", len(cells), dir)
	env, err := faultline.NewEnv(ctx, envOptions())
	if err != nil {
		return 0, err
	}
	defer env.Close()
	logf("matrix: docker engine ready, dead runs swept")
	scenarios, unmet := 0, []string(nil)
	for i, mc := range cells {
		cell := results.SpecCell(mc.spec)
		switch {
		case mc.skip != "":
			cell.Verdict, cell.Reason = "SKIPPED", mc.skip
		case ctx.Err() != nil:
			cell.Verdict, cell.Reason = "SKIPPED", "the matrix was interrupted"
		default:
			logf("matrix cell %d of %d: %s", i+1, len(cells), mc.spec.Name)
			var res faultline.Result
			cell, res = runCell(ctx, env, mc.spec)
			if mc.scenario != nil && cell.Verdict != "ERROR" {
				scenarios++
				if err := mc.scenario.Check(res); err != nil {
					unmet = append(unmet, fmt.Sprintf("%s (seed %d): %v", cell.Run, mc.spec.Seed, err))
				}
			}
		}
		table.Cells = append(table.Cells, cell)
		table.WallSeconds = time.Since(began).Seconds()
		if err := table.Write(dir); err != nil {
			return 0, err
		}
	}
	fmt.Print("\n" + table.Markdown())
	fmt.Printf("\nverdicts: %s\n", tally(table.Cells))
	fmt.Printf("table: %s\n", filepath.Join(dir, results.TableMarkdown))
	if scenarios > 0 {
		fmt.Printf("expectation met in %d of %d runs\n", scenarios-len(unmet), scenarios)
		for _, u := range unmet {
			fmt.Printf("  not met: %s\n", u)
		}
	}
	if ctx.Err() != nil {
		return 0, interrupted{dir: dir}
	}
	if code := table.ExitCode(); code == harness.ExitHarness || scenarios == 0 {
		return code, nil
	}
	if len(unmet) > 0 {
		return harness.ValidFalse.ExitCode(), nil
	}
	return 0, nil
}

// runCell runs one cell as an ordinary test and reads its run back.
func runCell(ctx context.Context, env *faultline.Env, spec harness.Spec) (results.Cell, faultline.Result) {
	started := time.Now()
	res, err := env.Run(ctx, spec)
	if res.Summary != "" {
		fmt.Print(res.Summary)
	}
	cell := results.SpecCell(spec)
	if res.Dir != "" {
		if c, rerr := results.CellOf(res.Dir); rerr == nil {
			cell = c
		} else {
			err = errors.Join(err, rerr)
		}
		cell.Run = res.Dir
	}
	if err != nil {
		cell.Verdict, cell.Reason = "ERROR", err.Error()
		logf("matrix cell %s: %v", spec.Name, err)
	}
	cell.Seconds = time.Since(started).Seconds()
	return cell, res
}

// compareCommand builds the matrix's comparison table from stored runs:
// each argument is a run directory, or a test directory standing for
// every run in it. It prints the table as Markdown and, with --out, writes
// it as Markdown, HTML, JSON and JUnit. Its exit code is the worst verdict
// of the runs, as the matrix's is.
func compareCommand(args []string) (int, error) {
	fs := newFlagSet("compare", "compare [--out DIR] RUN-OR-TEST-DIR...")
	out := fs.String("out", "", "directory to write table.md, table.html, table.json and junit.xml into; default: print only")
	title := fs.String("title", "faultline compare", "the table's title")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() == 0 {
		return 0, badInput{errors.New("compare needs at least one run directory or test directory (e.g. store/etcd-n5-halves)")}
	}
	dirs, err := results.RunDirs(fs.Args())
	if err != nil {
		return 0, badInput{err}
	}
	table := results.Table{Title: *title, Created: time.Now()}
	for _, d := range dirs {
		c, err := results.CellOf(d)
		if err != nil {
			return 0, badInput{err}
		}
		table.Cells = append(table.Cells, c)
	}
	if *out != "" {
		if err := table.Write(*out); err != nil {
			return 0, err
		}
	}
	fmt.Print(table.Markdown())
	return table.ExitCode(), nil
}

// tally counts the cells by verdict, worst first: "4 INVALID, 1 VALID of 5".
func tally(cells []results.Cell) string {
	counts := map[string]int{}
	for _, c := range cells {
		counts[c.Verdict]++
	}
	var parts []string
	for _, v := range []string{"ERROR", "INVALID", "UNKNOWN", "VALID", "SKIPPED"} {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
			delete(counts, v)
		}
	}
	for _, v := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
	}
	return fmt.Sprintf("%s of %d", strings.Join(parts, ", "), len(cells))
}
