// Package checker holds the checkers that apply to every workload: stats
// here; linearizability lives in checker/linearizable, apart, so that only
// workloads with a porcupine model pull porcupine in.
package checker

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/harness"
)

// Counts are the outcomes of a set of client ops.
type Counts struct {
	// OK, Fail and Info count completions by type.
	OK   int `json:"ok"`
	Fail int `json:"fail"`
	Info int `json:"info"`
	// Unfinished counts invocations that never completed (the harness
	// stopped first); a checker treats them as info.
	Unfinished int `json:"unfinished"`
}

// Total is the number of invocations counted.
func (c Counts) Total() int { return c.OK + c.Fail + c.Info + c.Unfinished }

// Add counts one op by the outcome of its completion; an op without one is
// unfinished.
func (c *Counts) Add(p harness.Pair) {
	if p.Completion == nil {
		c.Unfinished++
		return
	}
	switch p.Completion.Type {
	case harness.OK:
		c.OK++
	case harness.Fail:
		c.Fail++
	default:
		c.Info++
	}
}

func (c Counts) String() string {
	s := fmt.Sprintf("%d ok, %d fail, %d info", c.OK, c.Fail, c.Info)
	if c.Unfinished > 0 {
		s += fmt.Sprintf(", %d unfinished", c.Unfinished)
	}
	if t := c.Total(); t > 0 {
		s += fmt.Sprintf(" (%.1f%% ok)", 100*float64(c.OK)/float64(t))
	}
	return s
}

// StatsDetails is what the stats checker reports in results.json.
type StatsDetails struct {
	// All counts every client op.
	All Counts `json:"all"`
	// ByF counts the client ops of each f.
	ByF map[string]Counts `json:"by_f"`
	// NeverOK lists the fs of which no op succeeded, in name order. Each
	// makes the verdict false.
	NeverOK []string `json:"never_ok,omitempty"`
}

// Stats counts ok, fail and info outcomes of client ops, per f and in all,
// as Jepsen's stats checker does. Nemesis ops are not counted.
//
// Its verdict follows Jepsen's rule: false if some f that was invoked never
// once completed ok, true otherwise. A function that never succeeds usually
// means a broken client or a cluster that never served, and a check of the
// other properties over such a history proves little. The rule is blunt: a
// short run under heavy faults can leave a rare f without an ok through no
// fault of the store, and it is still reported invalid; the summary says
// which f and why, so a person can judge. An empty history is valid.
//
// With Informational set (an imported history, whose test faultline did
// not run) the counts are reported and the rule is never fatal.
type Stats struct {
	Informational bool
}

// Name is "stats".
func (Stats) Name() string { return "stats" }

// Check counts the client ops of h. It writes nothing to out.
func (st Stats) Check(_ context.Context, h harness.History, _ string) harness.Result {
	d := &StatsDetails{ByF: map[string]Counts{}}
	for _, p := range h.Pairs() {
		if !p.Invoke.IsClient() {
			continue
		}
		c := d.ByF[p.Invoke.F]
		c.Add(p)
		d.ByF[p.Invoke.F] = c
		d.All.Add(p)
	}
	fs := make([]string, 0, len(d.ByF))
	for f := range d.ByF {
		fs = append(fs, f)
	}
	sort.Strings(fs)

	summary := []string{fmt.Sprintf("stats: %d client ops: %s", d.All.Total(), d.All)}
	for _, f := range fs {
		c := d.ByF[f]
		summary = append(summary, fmt.Sprintf("  %s: %s", f, c))
		if c.OK == 0 {
			d.NeverOK = append(d.NeverOK, f)
		}
	}
	valid := harness.ValidTrue
	switch {
	case len(d.NeverOK) > 0 && st.Informational:
		summary = append(summary, fmt.Sprintf("  %s never succeeded (reported only: the history was imported)", strings.Join(d.NeverOK, ", ")))
	case len(d.NeverOK) > 0:
		valid = harness.ValidFalse
		summary = append(summary, fmt.Sprintf("  invalid: %s never succeeded (Jepsen's rule: every f must complete ok at least once)", strings.Join(d.NeverOK, ", ")))
	}
	return harness.Result{Valid: valid, Summary: summary, Details: d}
}

// Ops is the checker of what a history holds at all: a history with no
// client op proves nothing of the store, so its verdict is unknown, never
// valid.
type Ops struct{}

// Name is "history".
func (Ops) Name() string { return "history" }

// Check is unknown when h has no client op, valid otherwise.
func (Ops) Check(_ context.Context, h harness.History, _ string) harness.Result {
	n := 0
	for _, op := range h {
		if op.IsClient() && op.Type == harness.Invoke {
			n++
		}
	}
	if n == 0 {
		return harness.Result{Valid: harness.ValidUnknown, Summary: []string{fmt.Sprintf("history: unknown, no client op among its %d ops: it proves nothing of the store", len(h))}}
	}
	return harness.Result{Valid: harness.ValidTrue, Summary: []string{fmt.Sprintf("history: %d ops, %d client invocations", len(h), n)}}
}
