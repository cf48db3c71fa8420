package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
)

// regressionsRun runs every scenario of a real bug on its affected and
// its fixed release, N times each, and prints one table: faultline's
// track record. Its exit code is 0 when every row met its expectation
// (caught in at least 80% of the runs on the affected release, valid in
// every run on the fixed one), 1 when one did not.
func regressionsRun(args []string) (int, error) {
	fs := newFlagSet("scenario regressions", "scenario regressions [--test-count N] [--only NAME,...] [--seed S] [--store DIR]")
	count := fs.String("test-count", "10", "runs per scenario and release (1..1000), with seeds S, S+1, ...")
	only := fs.String("only", "", "run only these scenarios, comma-separated (default: every one of a real bug)")
	seed := fs.String("seed", "0", "seed of each row's first run; 0 draws one from the clock")
	store := fs.String("store", faultline.DefaultStore, "run store directory")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 {
		return 0, badInput{fmt.Errorf("scenario regressions takes no arguments, got %s", harness.Quote(fs.Arg(0)))}
	}
	n, err := harness.ParseIntIn(*count, 1, 1000)
	if err != nil {
		return 0, harness.BadValue("test-count", *count, "want a number of runs from 1 to 1000")
	}
	first, err := parseSeed(*seed)
	if err != nil {
		return 0, err
	}
	if err := checkStore(*store); err != nil {
		return 0, err
	}
	chosen, err := chooseRegressions(*only)
	if err != nil {
		return 0, err
	}
	// Every spec is checked before anything runs.
	var plan []faultline.Scenario
	for _, sc := range chosen {
		for _, release := range []string{"affected", "fixed"} {
			v, err := sc.On(release)
			if err != nil {
				return 0, err
			}
			v.Spec.Name, v.Spec.Store = v.Name+"-"+v.Spec.TargetVersion, *store
			if v.Spec, err = faultline.Validate(v.Spec); err != nil {
				return 0, err
			}
			plan = append(plan, v)
		}
	}
	ctx, sig := signalContext()
	defer sig.stop()
	began := time.Now()
	dir := filepath.Join(*store, "regressions", began.UTC().Format(results.TimeFormat))
	env, err := faultline.NewEnv(ctx, envOptions())
	if err != nil {
		return 0, err
	}
	defer env.Close()
	var rows []faultline.RegressionRow
	for _, v := range plan {
		row := faultline.NewRegressionRow(v)
		base := first
		if base == 0 {
			base = time.Now().UnixNano()
		}
		for i := 0; i < n && ctx.Err() == nil; i++ {
			spec := v.Spec
			spec.Seed = base + int64(i)
			logf("regressions: %s on %s, run %d of %d, seed %d", v.Name, spec.TargetVersion, i+1, n, spec.Seed)
			res, err := env.Run(ctx, spec)
			if err != nil {
				logf("regressions: %s: %v", v.Name, err)
			}
			row.Add(v, res, err)
			logf("regressions: %s on %s: %s, %s", v.Name, spec.TargetVersion, results.Verdict(res.Valid()), res.Dir)
		}
		rows = append(rows, row)
		if err := writeRegressions(dir, rows); err != nil {
			return 0, err
		}
	}
	table := faultline.RegressionMarkdown(rows)
	fmt.Print("\n" + table)
	fmt.Printf("\ntable: %s (%.0f s)\n", filepath.Join(dir, "regressions.md"), time.Since(began).Seconds())
	if ctx.Err() != nil {
		return sig.code(0, interrupted{dir: dir})
	}
	if slices.ContainsFunc(rows, func(r faultline.RegressionRow) bool { return !r.Met() }) {
		return harness.ValidFalse.ExitCode(), nil
	}
	return 0, nil
}

// chooseRegressions returns the scenarios of real bugs named by only (all
// of them when it is empty).
func chooseRegressions(only string) ([]faultline.Scenario, error) {
	all := faultline.Regressions()
	if only == "" {
		return all, nil
	}
	var names []string
	for _, sc := range all {
		names = append(names, sc.Name)
	}
	var out []faultline.Scenario
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(all, func(sc faultline.Scenario) bool { return sc.Name == name })
		if i < 0 {
			return nil, harness.BadValue("only", name, "no scenario of a real bug is named so: want some of %s", strings.Join(names, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// writeRegressions writes the rows so far as regressions.md and
// regressions.json into dir.
func writeRegressions(dir string, rows []faultline.RegressionRow) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("regressions: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "regressions.md"), []byte(faultline.RegressionMarkdown(rows)), 0o644); err != nil {
		return fmt.Errorf("regressions: %w", err)
	}
	data, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return fmt.Errorf("regressions: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "regressions.json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("regressions: %w", err)
	}
	return nil
}
