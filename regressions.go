package faultline

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
)

// RegressionRow is one line of faultline's track record: a scenario of a
// real bug, run a number of times on one release.
type RegressionRow struct {
	Scenario string `json:"scenario"`
	Issue    string `json:"issue"`
	Release  string `json:"release"`
	// Expect is the verdict each run must reach: invalid on the affected
	// release, valid on the fixed one.
	Expect harness.Valid `json:"expect"`
	// Runs counts the runs; Invalid those invalid; Caught those invalid
	// through every checker the scenario names; Valid those valid; Errors
	// those that ended in a harness error or were not judged.
	Runs    int `json:"runs"`
	Invalid int `json:"invalid"`
	Caught  int `json:"caught"`
	Valid   int `json:"valid"`
	Errors  int `json:"errors"`
	// Found counts, per checker, the runs it found invalid.
	Found map[string]int `json:"found"`
	// First is the first line of the first finding of a scenario checker,
	// with the run's seed: what a reader of the issue would recognise.
	First string `json:"first,omitempty"`
	// Dirs are the runs' directories.
	Dirs []string `json:"dirs"`
}

// NewRegressionRow starts the row of sc (as On returned it) on its
// release.
func NewRegressionRow(sc Scenario) RegressionRow {
	row := RegressionRow{Scenario: sc.Name, Release: sc.Spec.TargetVersion, Expect: sc.Expect, Found: map[string]int{}}
	if sc.Bug != nil {
		row.Issue = sc.Bug.Issue
	}
	return row
}

// Add counts one run of sc: its result, or the error that ended it. A
// run cut short by an interrupt is no run of the row: its partial
// history proves nothing either way.
func (r *RegressionRow) Add(sc Scenario, res Result, err error) {
	if res.Interrupted {
		return
	}
	r.Runs++
	if res.Dir != "" {
		r.Dirs = append(r.Dirs, res.Dir)
	}
	switch {
	case err != nil || res.Results.Checkers == nil:
		r.Errors++
		return
	case res.Valid() == harness.ValidTrue:
		r.Valid++
	case res.Valid() == harness.ValidFalse:
		r.Invalid++
	default:
		r.Errors++ // unknown: not judged
	}
	for _, name := range slices.Sorted(maps.Keys(res.Results.Checkers)) {
		if res.Results.Checkers[name].Valid == harness.ValidFalse {
			r.Found[name]++
		}
	}
	caught := len(sc.Caught) > 0 && res.Valid() == harness.ValidFalse
	for _, name := range sc.Caught {
		if res.Results.Checkers[name].Valid != harness.ValidFalse {
			caught = false
		}
	}
	if !caught {
		return
	}
	r.Caught++
	if r.First == "" {
		if line := finding(res.Results.Checkers[sc.Caught[0]].Summary); line != "" {
			r.First = fmt.Sprintf("%s (seed %d)", harness.Shorten(line, 200), res.Spec.Seed)
		}
	}
}

// finding picks the line of a checker's summary that names its anomaly:
// the first below the head that says false or names a violation, else
// the head.
func finding(summary []string) string {
	for _, line := range summary[min(1, len(summary)):] {
		if strings.Contains(line, "false") || strings.Contains(line, "violation") || strings.Contains(line, "went back") || strings.Contains(line, "diverged") {
			return strings.TrimSpace(line)
		}
	}
	if len(summary) > 0 {
		return strings.TrimSpace(summary[0])
	}
	return ""
}

// Met says whether the row meets its expectation: on the affected
// release at least 80% of the runs caught through the scenario's
// checkers, on the fixed release every run valid.
func (r RegressionRow) Met() bool {
	if r.Runs == 0 {
		return false
	}
	if r.Expect == harness.ValidFalse {
		return r.Caught*5 >= r.Runs*4
	}
	return r.Valid == r.Runs
}

// found renders Found: "linearizable 9, revisions 7", or "nothing".
func (r RegressionRow) found() string {
	if len(r.Found) == 0 {
		return "nothing"
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(r.Found)) {
		parts = append(parts, fmt.Sprintf("%s %d", name, r.Found[name]))
	}
	return strings.Join(parts, ", ")
}

// RegressionMarkdown renders rows as the track record's table.
func RegressionMarkdown(rows []RegressionRow) string {
	var b strings.Builder
	b.WriteString("| scenario | etcd issue | release | expect | runs | invalid | caught | met | found (runs per checker) | first finding |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		met := "yes"
		if !r.Met() {
			met = "**no**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %d | %s | %s | %s |\n", r.Scenario, r.Issue, r.Release,
			results.Verdict(r.Expect), r.Runs, r.Invalid, r.Caught, met, r.found(), strings.ReplaceAll(r.First, "|", `\|`))
	}
	return b.String()
}
