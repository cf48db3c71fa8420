package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
	"github.com/faultline/faultline/results/edn"
)

// checkCommand re-checks a stored run, a bare history.jsonl, or a Jepsen
// history.edn, with the same checkers a live run uses. It writes nothing
// into the run unless --out names a directory for the reports.
func checkCommand(args []string) (int, error) {
	fs := newFlagSet("check", "check [flags] RUN-DIR|history.jsonl|history.edn")
	workload := fs.String("workload", "", "workload of a bare history (default: the one in the run's test.json, else register)")
	checkTimeout := fs.String("check-timeout", "0", "seconds the linearizability check may take, at most 86400 (default: the run's, else 120)")
	out := fs.String("out", "", "directory to write the reports into (visualizations, plots, timeline.html, junit.xml, history.edn); default none")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() != 1 {
		return 0, badInput{errors.New("check takes exactly one PATH: a run directory, a history.jsonl or a Jepsen history.edn")}
	}
	timeout, err := harness.ParseSeconds("check-timeout", *checkTimeout)
	if err == nil {
		err = harness.CheckSeconds("check-timeout", timeout, harness.MaxCheck, true)
	}
	if err != nil {
		return 0, err
	}
	if *workload != "" {
		if _, ok := faultline.LookupWorkload(*workload); !ok {
			return 0, harness.BadValue("workload", *workload, "unknown workload: want one of %s", strings.Join(faultline.WorkloadNames(), ", "))
		}
	}
	run, histPath, err := results.Open(fs.Arg(0))
	if err != nil {
		return 0, badInput{err}
	}
	spec := harness.Spec{Workload: faultline.DefaultWorkload, CheckTimeout: faultline.DefaultCheckTimeout}
	if err := run.ReadJSON(results.TestFile, &spec); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, badInput{err}
	}
	if *workload != "" {
		spec.Workload = *workload
	}
	if timeout > 0 {
		spec.CheckTimeout = timeout
	}
	if spec.CheckTimeout <= 0 {
		spec.CheckTimeout = faultline.DefaultCheckTimeout
	}
	h, err := readHistory(histPath, spec.Workload)
	if err != nil {
		return 0, badInput{err}
	}
	if err := h.Validate(); err != nil {
		return 0, badInput{fmt.Errorf("%s: %w", histPath, err)}
	}
	logDir := ""
	if fi, err := os.Stat(filepath.Join(run.Dir, results.NodesDir)); err == nil && fi.IsDir() {
		logDir = run.Dir // a stored run: its node logs are judged too
	}
	checkers, err := faultline.Checkers(spec, logDir)
	if err != nil {
		return 0, err
	}
	rs := harness.CheckAll(context.Background(), h, *out, checkers)
	fmt.Print(results.Summary(spec, rs, ""))
	if *out != "" {
		if err := results.WriteReports(*out, results.Report{Spec: spec, History: h, Results: rs}); err != nil {
			fmt.Fprintf(os.Stderr, "faultline: warning: %v\n", err)
		}
	}
	return rs.Valid.ExitCode(), nil
}

// readHistory reads the history file at path: a Jepsen history.edn when
// its name ends in .edn, else faultline's history.jsonl (whose torn last
// line, as a killed harness leaves, is dropped). An EDN history of the
// register workload is held to the cas-register model's values as it is
// read, so a bad value is reported at its line and column.
func readHistory(path, workload string) (harness.History, error) {
	if !strings.HasSuffix(path, ".edn") {
		return harness.ReadJSONLFile(path)
	}
	var check edn.OpCheck
	if workload == "register" {
		check = edn.CASRegister
	}
	return edn.ReadHistoryFile(path, check)
}
