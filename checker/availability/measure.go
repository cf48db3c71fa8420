package availability

import (
	"slices"
	"time"

	"github.com/faultline/faultline/harness"
)

// Figures are the measurements of one group of clients (a side, a node, or
// the failover clients) over one fault window. Counts cover the ops
// invoked while the fault was certainly in force.
type Figures struct {
	// OK, Fail, Info and Unfinished count the group's ops invoked between
	// the fault being in force and its end, by outcome.
	OK         int `json:"ok"`
	Fail       int `json:"fail"`
	Info       int `json:"info"`
	Unfinished int `json:"unfinished"`
	// OKRate is OK over all those ops; 0 when there were none.
	OKRate float64 `json:"ok_rate"`
	// OKByF counts those ops that completed ok, by f.
	OKByF map[string]int `json:"ok_by_f,omitempty"`
	// ElectionGapS is the longest time the group waited with no write
	// accepted, among the waits that began between the fault's start and
	// the end of the grace period: for a majority, the time from the cut
	// to its first write accepted under a new leader (or, with the leader
	// on its side, an ordinary pause between writes). It is not measured
	// from the fault op's invocation or completion, because applying a
	// fault takes a while (0.2 s on an idle machine, 12 s was seen under a
	// load average of 40) and the cut falls somewhere in between; the wait
	// itself shows where. Nil if no write was accepted during the fault.
	ElectionGapS *float64 `json:"election_gap_s,omitempty"`
	// LongestWriteGapS is the longest time, during the fault, that the
	// group had ops waiting and no write accepted (the election gap
	// included). Set for majorities and failover clients only.
	LongestWriteGapS *float64 `json:"longest_write_gap_s,omitempty"`
	// LinearizableOKAfterGrace counts ops that are linearizable (writes,
	// and reads unless serializable), were invoked after the grace period
	// and completed ok before the fault ended. On a side without a
	// majority each one breaks the minority rule.
	LinearizableOKAfterGrace int `json:"linearizable_ok_after_grace"`
	// SerializableReadsOK counts serializable reads under the same
	// conditions: legal on a minority, and likely stale.
	SerializableReadsOK int `json:"serializable_reads_ok"`
}

// measurement holds what measuring a group found beyond its Figures: the
// longest write gap, for the majority rule.
type measurement struct {
	Figures
	longestGap span
	hasGap     bool
}

// measure computes the figures of the clients whose pairs are given over
// the span w of a segment whose state held from inForce: its fault op was
// invoked at w.from and completed at inForce, and the next fault op is
// invoked at w.to. withGap asks for the write gaps, which only a group
// expected to keep accepting writes needs.
func (m *model) measure(pairs []harness.Pair, w span, inForce time.Duration, withGap bool) measurement {
	cfg := m.cfg
	var out measurement
	graceEnd := inForce + cfg.Grace
	var accepted []time.Duration
	for _, p := range pairs {
		inv, c := p.Invoke, p.Completion
		if c != nil && c.Type == harness.OK && cfg.isWrite(inv.F) && c.Time > w.from && c.Time < w.to {
			accepted = append(accepted, c.Time)
		}
		if inv.Time < inForce || inv.Time >= w.to {
			continue
		}
		switch {
		case c == nil:
			out.Unfinished++
			continue
		case c.Type == harness.Fail:
			out.Fail++
			continue
		case c.Type != harness.OK:
			out.Info++
			continue
		}
		out.OK++
		if out.OKByF == nil {
			out.OKByF = map[string]int{}
		}
		out.OKByF[inv.F]++
		node := inv.Node
		if !slices.Contains(cfg.Nodes, node) {
			node = cfg.FailoverNode
		}
		switch {
		case cfg.linearizable(inv.F):
			if _, late := m.lateOK(node, p); late {
				out.LinearizableOKAfterGrace++
			}
		case inv.Time >= m.graceEndOr(node, inv.Time, graceEnd) && c.Time < w.to:
			out.SerializableReadsOK++
		}
	}
	if total := out.OK + out.Fail + out.Info + out.Unfinished; total > 0 {
		out.OKRate = float64(out.OK) / float64(total)
	}
	gaps := writeGaps(busyOf(pairs, w.to), accepted, w.from, w.to)
	if g, ok := electionGap(gaps, w.from, graceEnd); ok && len(accepted) > 0 && g.to < w.to {
		out.ElectionGapS = secondsPtr(g.to - g.from)
	}
	if withGap {
		if g, ok := longest(gaps); ok {
			out.longestGap, out.hasGap = g, true
			out.LongestWriteGapS = secondsPtr(g.to - g.from)
		}
	}
	return out
}

// graceEndOr is the end of node's grace at t: its cut-off run's, or def
// when it was not cut off.
func (m *model) graceEndOr(node string, t, def time.Duration) time.Duration {
	if r, ok := m.runAt(node, t); ok {
		return r.from + m.cfg.Grace
	}
	return def
}

// Recovery is how long one node that was cut off took to serve a
// linearizable op again after the fault was undone.
type Recovery struct {
	// Node is the node's name.
	Node string `json:"node"`
	// Seconds runs from the completion of the op that ended the fault to
	// the first linearizable op answered ok by the node after the fault
	// began to be undone. Nil if none was answered before the next fault
	// or the end of the history.
	Seconds *float64 `json:"seconds"`
	// Note explains a nil Seconds.
	Note string `json:"note,omitempty"`
}

// recoveries measures the nodes cut off during a window that ended at
// end (the invocation of the op that ended it) and was undone at healed:
// for each, the time from healed to its first linearizable op answered ok
// after end, searched until the next cut-off run of the node begins (a
// node on the majority of the next fault can still show its recovery
// there) or the end of the history.
func (m *model) recoveries(nodes []string, end, healed, last time.Duration) []Recovery {
	var out []Recovery
	for _, n := range nodes {
		r := Recovery{Node: n}
		limit, limitName := last+1, "the end of the history"
		for _, run := range m.runs[n] {
			if run.from >= healed {
				limit, limitName = run.from, "the next fault that cut it off, at "+fmtSeconds(run.from)
				break
			}
		}
		pairs := m.pairs[n]
		first := time.Duration(-1)
		for _, p := range pairs {
			c := p.Completion
			if c == nil || c.Type != harness.OK || !m.cfg.linearizable(p.Invoke.F) || c.Time < end || c.Time >= limit {
				continue
			}
			if first < 0 || c.Time < first {
				first = c.Time
			}
		}
		switch {
		case len(pairs) == 0:
			r.Note = "no client was pinned to it"
		case first < 0:
			r.Note = "no linearizable op answered ok before " + limitName
		default:
			r.Seconds = secondsPtr(max(0, first-healed))
		}
		out = append(out, r)
	}
	return out
}

func secondsPtr(d time.Duration) *float64 {
	s := roundSeconds(d)
	return &s
}

// roundSeconds keeps millisecond precision, which is all the figures mean.
func roundSeconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond).Milliseconds()) / 1000
}
