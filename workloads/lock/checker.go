package lock

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/harness"
)

// Checker verifies mutual exclusion from the history alone.
//
// What the history proves is what clients believed. A process believed it
// held the lock from the completion of its ok acquire (the store granted
// the lock before the client heard so) until it invoked its release (the
// store cannot have released it before it was asked to). Those two records
// bound a window strictly inside the belief, so two such windows that
// overlap in history order prove that two processes believed at once that
// each held the lock: the lock failed to exclude, as its users see it.
// With a lease-based lock that has a cause that is no bug of the store's
// raft: a holder whose lease expired (cut off, paused, or simply slower
// than its TTL) still believes it holds the lock.
//
// A hold ends at the release's invocation; at the completion of an op that
// ended info (the client then abandoned its session); at the invocation
// of an op that never completed; or, if the history ends mid-hold, at the
// process's last record. Each choice is the earliest point the history
// can vouch for, so no overlap is inferred that did not happen.
//
// An acquire whose outcome is unknown (info, or unfinished) may have been
// granted by the store, and then it held the lock until its lease expired,
// at most a TTL after the client abandoned it. But the client never acted
// on it and no record bounds when the grant happened, so such acquires are
// counted as uncertain and never used as evidence: the blocking they cause
// is legal.
//
// Fenced (lock-etcd-set) changes what counts against the verdict. There
// every guarded write applies only while its writer's lock key exists, so
// an overlap of beliefs is harmless as long as the fence refuses the
// lapsed holder; overlaps are then reported but do not fail the check.
// What fails it is proof that the store let a superseded holder write: an
// ok guarded write of one hold invoked after a later hold's acquire had
// completed. For the later acquire to succeed, every older lock key, the
// writer's among them, must have been deleted first, and a deleted key
// never returns with its create revision; so the write's fence cannot
// legally have passed.
//
// Verdict: false on any overlap (unfenced) or any write past its
// supersession (fenced); unknown when no acquire succeeded; true
// otherwise.
type Checker struct {
	// Fenced says the guarded writes are fenced by the lock key.
	Fenced bool
}

// Name is "lock".
func (Checker) Name() string { return "lock" }

// Hold is one believed hold of the lock.
type Hold struct {
	Process harness.Process `json:"process"`
	Node    string          `json:"node"`
	// From is the index of the ok acquire's completion, To the index of
	// the record that ends the hold; Start and End their times.
	From  int           `json:"from"`
	To    int           `json:"to"`
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end"`
	// Ended says what ended it: release, info, unfinished, reacquire or
	// open.
	Ended string `json:"ended"`
	// lastWrite is the invocation index of the hold's last ok add, or -1.
	lastWrite int
}

// Overlap is two holds whose believed windows overlap.
type Overlap struct {
	First  Hold `json:"first"`
	Second Hold `json:"second"`
	// Duration is how long both were believed held, by the records'
	// times.
	Duration time.Duration `json:"duration"`
}

// FenceViolation is a guarded write that took effect after its writer's
// hold had been superseded by a later acquire.
type FenceViolation struct {
	// Write is the ok add's invocation index, by Writer's hold.
	Write  int  `json:"write"`
	Writer Hold `json:"writer"`
	// Successor is the hold whose acquire completed before the write.
	Successor Hold `json:"successor"`
}

// Details is what the lock checker reports in results.json.
type Details struct {
	// Fenced says whether guarded writes were fenced (lock-etcd-set).
	Fenced bool `json:"fenced"`
	// Acquires, Adds and Releases count ops by outcome.
	Acquires checker.Counts `json:"acquires"`
	Adds     checker.Counts `json:"adds"`
	Releases checker.Counts `json:"releases"`
	// Holds is the number of believed holds; Uncertain the acquires of
	// unknown outcome (info or unfinished), never counted as holds.
	Holds     int `json:"holds"`
	Uncertain int `json:"uncertain"`
	// Refused counts guarded writes the fence refused because the lock key
	// was gone.
	Refused int `json:"refused"`
	// LongestHold is the longest believed hold.
	LongestHold time.Duration `json:"longest_hold"`
	// Overlaps counts overlapping pairs of holds; Examples lists the first.
	Overlaps int       `json:"overlaps"`
	Examples []Overlap `json:"examples,omitempty"`
	// FenceViolations lists the writes past their supersession (fenced
	// only).
	FenceViolations []FenceViolation `json:"fence_violations,omitempty"`
}

const maxExamples = 10

// Check judges h. It writes nothing to out.
func (c Checker) Check(_ context.Context, h harness.History, _ string) harness.Result {
	d := &Details{Fenced: c.Fenced}
	holds := c.holds(h, d)
	d.Holds = len(holds)
	for i, a := range holds {
		d.LongestHold = max(d.LongestHold, a.End-a.Start)
		for _, b := range holds[i+1:] {
			if b.From >= a.To {
				break
			}
			d.Overlaps++
			if len(d.Examples) < maxExamples {
				d.Examples = append(d.Examples, Overlap{First: a, Second: b, Duration: min(a.End, b.End) - b.Start})
			}
		}
		// The earliest later hold is the one a late write would
		// contradict first.
		if c.Fenced && i+1 < len(holds) && a.lastWrite > holds[i+1].From {
			d.FenceViolations = append(d.FenceViolations, FenceViolation{Write: a.lastWrite, Writer: a, Successor: holds[i+1]})
		}
	}
	valid := harness.ValidTrue
	switch {
	case len(d.FenceViolations) > 0, !c.Fenced && d.Overlaps > 0:
		valid = harness.ValidFalse
	case d.Holds == 0:
		valid = harness.ValidUnknown
	}
	return harness.Result{Valid: valid, Summary: summary(d), Details: d}
}

// holds walks the history and returns every believed hold, sorted by the
// completion of its acquire, counting ops into d as it goes.
func (c Checker) holds(h harness.History, d *Details) []Hold {
	times := map[int]time.Duration{}
	for _, op := range h {
		times[op.Index] = op.Time
	}
	var holds []Hold
	open := map[harness.Process]*Hold{}
	last := map[harness.Process]int{}
	end := func(p harness.Process, at int, why string) {
		hd := open[p]
		hd.To, hd.End, hd.Ended = at, times[at], why
		holds = append(holds, *hd)
		delete(open, p)
	}
	for _, pr := range h.Pairs() {
		inv, done := pr.Invoke, pr.Completion
		if !inv.IsClient() {
			continue
		}
		p := inv.Process
		switch inv.F {
		case Acquire:
			d.Acquires.Add(pr)
		case Add:
			d.Adds.Add(pr)
			if done != nil && done.Type == harness.Fail && strings.HasPrefix(done.Error, FencedError) {
				d.Refused++
			}
			if hd := open[p]; hd != nil && done != nil && done.Type == harness.OK {
				hd.lastWrite = inv.Index
			}
		case Release:
			d.Releases.Add(pr)
		}
		if open[p] != nil {
			switch {
			case inv.F == Release:
				end(p, inv.Index, "release")
			case inv.F == Acquire:
				end(p, inv.Index, "reacquire")
			case done == nil:
				end(p, inv.Index, "unfinished")
			case done.Type == harness.Info:
				end(p, done.Index, "info")
			}
		}
		if done != nil {
			last[p] = done.Index
		}
		if inv.F == Acquire {
			switch {
			case done == nil || done.Type == harness.Info:
				d.Uncertain++
			case done.Type == harness.OK:
				open[p] = &Hold{Process: p, Node: done.Node, From: done.Index, Start: done.Time, lastWrite: -1}
			}
		}
	}
	for p := range open {
		end(p, last[p], "open")
	}
	sort.Slice(holds, func(i, j int) bool { return holds[i].From < holds[j].From })
	return holds
}

func summary(d *Details) []string {
	lines := []string{
		fmt.Sprintf("lock: acquires %s; holds: %d (longest %v); acquires of unknown outcome, never counted as holds: %d",
			d.Acquires, d.Holds, d.LongestHold.Round(time.Millisecond), d.Uncertain),
	}
	switch {
	case d.Holds == 0:
		lines = append(lines, "  no acquire succeeded: mutual exclusion was never exercised")
	case d.Overlaps == 0:
		lines = append(lines, "  mutual exclusion held: no two holds overlap")
	case d.Fenced:
		lines = append(lines, fmt.Sprintf("  overlapping pairs of holds: %d: a lease lapsed while its holder still believed it held the lock (the fence must refuse the lapsed holder)", d.Overlaps))
	default:
		lines = append(lines, fmt.Sprintf("  mutual exclusion violated: overlapping pairs of holds: %d", d.Overlaps))
	}
	for _, v := range d.Examples {
		lines = append(lines, fmt.Sprintf("  overlap %v: %s and %s", v.Duration.Round(time.Millisecond), describe(v.First), describe(v.Second)))
	}
	if !d.Fenced {
		return lines
	}
	lines = append(lines, fmt.Sprintf("  fence: guarded writes refused because their writer had lost the lock: %d", d.Refused))
	if len(d.FenceViolations) == 0 {
		lines = append(lines, "  fence held: no write took effect after its writer was superseded")
	} else {
		lines = append(lines, fmt.Sprintf("  fence violated: holds that wrote after a later acquire had completed: %d", len(d.FenceViolations)))
	}
	for i, v := range d.FenceViolations {
		if i == maxExamples {
			break
		}
		lines = append(lines, fmt.Sprintf("  write op %d by %s took effect after %s", v.Write, describe(v.Writer), describe(v.Successor)))
	}
	return lines
}

func describe(hd Hold) string {
	return fmt.Sprintf("p%v on %s held ops %d..%d (%v..%v, %s)", hd.Process, hd.Node, hd.From, hd.To,
		hd.Start.Round(time.Millisecond), hd.End.Round(time.Millisecond), hd.Ended)
}
