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
// offending ops and the longest write gap, for the verdict.
type measurement struct {
	Figures
	lateOK     []harness.Pair
	longestGap span
	hasGap     bool
}

// measure computes the figures of the clients whose pairs are given over
// window w. withGap asks for the write gaps, which only a group expected to
// keep accepting writes needs.
func measure(pairs []harness.Pair, w window, cfg Config, withGap bool) measurement {
	var m measurement
	graceEnd := w.inForce + cfg.Grace
	var accepted []time.Duration
	for _, p := range pairs {
		inv, c := p.Invoke, p.Completion
		if c != nil && c.Type == harness.OK && cfg.isWrite(inv.F) && c.Time > w.start && c.Time < w.end {
			accepted = append(accepted, c.Time)
		}
		if inv.Time < w.inForce || inv.Time >= w.end {
			continue
		}
		switch {
		case c == nil:
			m.Unfinished++
			continue
		case c.Type == harness.Fail:
			m.Fail++
			continue
		case c.Type != harness.OK:
			m.Info++
			continue
		}
		m.OK++
		if m.OKByF == nil {
			m.OKByF = map[string]int{}
		}
		m.OKByF[inv.F]++
		if c.Time >= w.end {
			continue // answered after the fault ended: proves nothing
		}
		if inv.Time >= graceEnd {
			if cfg.linearizable(inv.F) {
				m.LinearizableOKAfterGrace++
				m.lateOK = append(m.lateOK, p)
			} else {
				m.SerializableReadsOK++
			}
		}
	}
	if total := m.OK + m.Fail + m.Info + m.Unfinished; total > 0 {
		m.OKRate = float64(m.OK) / float64(total)
	}
	gaps := writeGaps(busyOf(pairs, w.end), accepted, w.start, w.end)
	if g, ok := electionGap(gaps, w.start, graceEnd); ok && len(accepted) > 0 && g.to < w.end {
		m.ElectionGapS = secondsPtr(g.to - g.from)
	}
	if withGap {
		if g, ok := longest(gaps); ok {
			m.longestGap, m.hasGap = g, true
			m.LongestWriteGapS = secondsPtr(g.to - g.from)
		}
	}
	return m
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

// recoveries measures every cut-off node of w. A node's search ends where
// a later fault may cut it off again (or at the end of the history): a
// node on the majority of the next fault can still show its recovery
// there.
func recoveries(w window, nodes []string, byNode map[string][]harness.Pair, cfg Config, later []window, last time.Duration) []Recovery {
	var out []Recovery
	for _, n := range nodes {
		r := Recovery{Node: n}
		limit, limitName := last+1, "the end of the history"
		for _, f := range later {
			if mayCutOff(f, n, cfg) {
				limit, limitName = f.start, "the next fault that cut it off, at "+fmtSeconds(f.start)
				break
			}
		}
		pairs := byNode[n]
		first := time.Duration(-1)
		for _, p := range pairs {
			c := p.Completion
			if c == nil || c.Type != harness.OK || !cfg.linearizable(p.Invoke.F) || c.Time < w.end || c.Time >= limit {
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
			r.Seconds = secondsPtr(max(0, first-w.healed))
		}
		out = append(out, r)
	}
	return out
}

// mayCutOff reports whether fault f may have cut node off from a majority.
func mayCutOff(f window, node string, cfg Config) bool {
	sides, clean := sidesOf(f, cfg)
	if f.unusable != "" || !clean {
		return true
	}
	return slices.Contains(cutOff(f, sides, clean), node)
}

// cutOff lists the nodes of w that lost the majority: those on a minority
// or down side, or, without clean sides, every node with a grudge.
func cutOff(w window, sides []side, clean bool) []string {
	if !clean {
		return w.cut
	}
	var out []string
	for _, s := range sides {
		if s.role != RoleMajority {
			out = append(out, s.nodes...)
		}
	}
	slices.Sort(out)
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
