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
	hasSpec := true
	if err := run.ReadJSON(results.TestFile, &spec); errors.Is(err, os.ErrNotExist) {
		hasSpec = false
	} else if err != nil {
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
	h, lines, err := readHistory(histPath, spec.Workload)
	if err != nil {
		return 0, badInput{err}
	}
	if len(h) == 0 {
		return 0, badInput{fmt.Errorf("%s holds no op: it is no history", histPath)}
	}
	if err := h.Validate(); err != nil {
		var he *harness.HistoryError
		if errors.As(err, &he) && he.Position < len(lines) {
			return 0, badInput{fmt.Errorf("%s: line %d: %w", histPath, lines[he.Position], err)}
		}
		return 0, badInput{fmt.Errorf("%s: %w", histPath, err)}
	}
	var checkers []harness.Checker
	if strings.HasSuffix(histPath, ".edn") && !hasSpec {
		// A Jepsen history: judged by the model it claims.
		checkers, err = faultline.ImportedCheckers(spec)
	} else {
		logDir := ""
		if fi, err := os.Stat(filepath.Join(run.Dir, results.NodesDir)); err == nil && fi.IsDir() {
			logDir = run.Dir // a stored run: its node logs are judged too
		}
		checkers, err = faultline.Checkers(spec, logDir)
	}
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
//
// It returns each op's line for a history.jsonl (for EDN the reader names
// lines itself), and refuses a file of more than maxHistoryFile bytes.
func readHistory(path, workload string) (harness.History, []int, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxHistoryFile {
		return nil, nil, fmt.Errorf("%s holds %d bytes, more than the %d a history is read from", path, fi.Size(), maxHistoryFile)
	}
	if !strings.HasSuffix(path, ".edn") {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("open history: %w", err)
		}
		defer f.Close()
		h, lines, err := harness.ReadJSONLLines(f)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return h, lines, nil
	}
	var check edn.OpCheck
	if workload == "register" {
		check = edn.CASRegister
	}
	h, err := edn.ReadHistoryFile(path, check)
	return h, nil, err
}

// maxHistoryFile bounds the history files check reads: 4 GiB, far above a
// day-long run's, far below what would exhaust a machine.
const maxHistoryFile = 4 << 30
