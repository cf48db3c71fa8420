package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/checker/availability"
	"github.com/faultline/faultline/harness"
)

// Cell is one run in a comparison table: what was tested, its verdict and
// the figures that compare runs: throughput, latency, and availability
// under the faults.
type Cell struct {
	// Target, Nodes and Faults say what was tested; Faults is the
	// partition layout and any other fault kinds.
	Target string `json:"target"`
	Nodes  int    `json:"nodes"`
	Faults string `json:"faults"`
	// Name is the test name; Run the run directory, if the run exists.
	Name string `json:"name"`
	Run  string `json:"run,omitempty"`
	// Verdict is VALID, INVALID or UNKNOWN for a checked run, ERROR for a
	// run the harness could not finish, SKIPPED for a cell not run.
	Verdict string `json:"verdict"`
	// Reason explains an ERROR or SKIPPED cell, or names the checkers
	// that did not accept the run.
	Reason string `json:"reason,omitempty"`
	// OKPerSecond is the client ops answered ok per second of workload.
	OKPerSecond float64 `json:"ok_per_second"`
	// LatencyP50Ms and LatencyP99Ms are quantiles of the latency of ok
	// client ops, in milliseconds.
	LatencyP50Ms *float64 `json:"latency_p50_ms,omitempty"`
	LatencyP99Ms *float64 `json:"latency_p99_ms,omitempty"`
	// Availability is the availability checker's headline, if it ran.
	Availability *availability.Headline `json:"availability,omitempty"`
	// Seconds is how long the cell took, harness included; 0 if unknown.
	Seconds float64 `json:"seconds,omitempty"`
}

// ExitCode is the cell's share of a table's exit code: its verdict's, 255
// for an ERROR, 0 for a SKIPPED cell.
func (c Cell) ExitCode() int {
	switch c.Verdict {
	case "ERROR":
		return harness.ExitHarness
	case "INVALID":
		return harness.ValidFalse.ExitCode()
	case "UNKNOWN":
		return harness.ValidUnknown.ExitCode()
	}
	return 0
}

// CellOf reads a stored run into a cell. A run without results.json (one
// the harness did not finish) is an ERROR cell, not an error; an error
// means dir is no run at all.
func CellOf(dir string) (Cell, error) {
	run := &Run{Dir: dir}
	var spec harness.Spec
	if err := run.ReadJSON(TestFile, &spec); err != nil {
		return Cell{}, fmt.Errorf("%s is not a run: %w", dir, err)
	}
	c := SpecCell(spec)
	c.Run = dir
	var rs harness.RawResults
	if err := run.ReadJSON(ResultsFile, &rs); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			c.Verdict, c.Reason = "ERROR", "no results.json: the run did not finish"
			return c, nil
		}
		return Cell{}, err
	}
	c.Verdict = Verdict(rs.Valid)
	var failing []string
	for name, r := range rs.Checkers {
		if r.Valid != harness.ValidTrue {
			failing = append(failing, name+"="+r.Valid.String())
		}
	}
	sort.Strings(failing)
	c.Reason = strings.Join(failing, ", ")
	if r, ok := rs.Checkers["availability"]; ok && len(r.Details) > 0 {
		var d struct {
			Headline availability.Headline `json:"headline"`
		}
		if err := json.Unmarshal(r.Details, &d); err != nil {
			return Cell{}, fmt.Errorf("%s: availability details: %w", dir, err)
		}
		c.Availability = &d.Headline
	}
	h, err := harness.ReadJSONLFile(run.Path(HistoryFile))
	if err != nil {
		return Cell{}, err
	}
	c.OKPerSecond, c.LatencyP50Ms, c.LatencyP99Ms = perf(h, spec.TimeLimit)
	return c, nil
}

// SpecCell is the cell of a run of spec before it has any results.
func SpecCell(spec harness.Spec) Cell {
	var faults []string
	for _, f := range spec.Nemesis {
		switch {
		case f == "partition":
			faults = append(faults, spec.Partition)
		case f == "kill" && spec.FaultOptions.Get("kill-count", "0") != "0":
			faults = append(faults, "kill "+spec.FaultOptions["kill-count"])
		case f == "kill":
			faults = append(faults, "kill "+spec.FaultTargets["kill"])
		default:
			faults = append(faults, f)
		}
	}
	if len(faults) == 0 {
		faults = []string{"none"}
	}
	return Cell{Target: spec.Target, Nodes: spec.Nodes, Faults: strings.Join(faults, "+"), Name: spec.Name}
}

// perf returns the ok client ops per second of the workload phase and the
// p50 and p99 latency of those ops.
func perf(h harness.History, limit time.Duration) (float64, *float64, *float64) {
	var latencies []float64
	for _, p := range h.Client().Pairs() {
		if p.Completion != nil && p.Completion.Type == harness.OK {
			latencies = append(latencies, float64(p.Completion.Time-p.Invoke.Time)/float64(time.Millisecond))
		}
	}
	if len(latencies) == 0 || limit <= 0 {
		return 0, nil, nil
	}
	slices.Sort(latencies)
	p50, p99 := quantile(latencies, 0.5), quantile(latencies, 0.99)
	return float64(len(latencies)) / limit.Seconds(), &p50, &p99
}

// RunDirs expands paths into run directories: a run directory stands for
// itself, a test directory (store/<test>) for every run in it, in time
// order. A path that holds no run is an error naming it.
func RunDirs(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if _, err := os.Stat(filepath.Join(p, TestFile)); err == nil {
			out = append(out, p)
			continue
		}
		runs, err := filepath.Glob(filepath.Join(p, "*", TestFile))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(runs) == 0 {
			return nil, fmt.Errorf("%s holds no run: no %s in it or in its sub-directories", p, TestFile)
		}
		sort.Strings(runs)
		for _, r := range runs {
			out = append(out, filepath.Dir(r))
		}
	}
	return out, nil
}
