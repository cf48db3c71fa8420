package results

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results/edn"
)

// Report is what the reports of a checked run are drawn from.
type Report struct {
	// Spec is the test as run (or as re-checked).
	Spec harness.Spec
	// History is every op of the run.
	History harness.History
	// Results is every checker's verdict.
	Results harness.Results
	// Started is when the run began; zero if unknown.
	Started time.Time
	// Took is how long the run took, check included; zero if unknown.
	Took time.Duration
}

// WriteReports writes the reports a person or a tool reads into dir:
// latency-raw.png, latency-quantiles.png and rate.png (with the fault
// windows shaded), timeline.html, junit.xml (one testcase per checker) and
// history.edn (the history in Jepsen's format). It writes every report it
// can and returns the errors of those it could not, joined.
func WriteReports(dir string, r Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	timeline := func() error {
		f, err := os.Create(filepath.Join(dir, TimelineFile))
		if err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
		werr := WriteTimeline(f, timelineTitle(r.Spec), r.History)
		return errors.Join(werr, f.Close())
	}
	return errors.Join(
		WritePlots(dir, r.History),
		timeline(),
		WriteJUnit(filepath.Join(dir, JUnitFile), RunJUnit(r.Spec, r.Results, r.Started, r.Took)),
		edn.WriteHistoryFile(filepath.Join(dir, EDNHistoryFile), r.History),
	)
}

func timelineTitle(spec harness.Spec) string {
	if spec.Name == "" {
		return "history"
	}
	return fmt.Sprintf("%s (%s, %d nodes, seed %d)", spec.Name, spec.Target, spec.Nodes, spec.Seed)
}
