package watch

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/harness"
)

// Checker verifies the watchers' sequences against each other and against
// the writes.
//
// Each live watcher's sequence is the events of its ok watch ops, in
// order; each final watch is a sequence of its own. All start at
// StartRevision. The reference history maps a revision to its value: the
// acknowledged write's, where one was acknowledged at that revision, else
// the value the first watcher to report the revision saw. A sequence is
// judged event by event, and its first divergence is reported:
//
//   - duplicate / out-of-order: a revision not above the previous one;
//   - gap: a revision of the reference history (an acknowledged write, or
//     an event another watcher saw) skipped between two events, or before
//     the first;
//   - wrong-value: a value other than the reference's at that revision;
//   - unknown-value: a value no write ever carried;
//   - failed-write: the value of a write that failed, which claims it never
//     happened;
//   - revision-mismatch: the value of a write acknowledged at another
//     revision;
//   - delete: a delete event (nothing deletes the key).
//
// A watcher that stopped early is a prefix, not a divergence. What no
// live watcher can vouch for, a final watch does: it replays the key's
// history up to the revision a linearizable read returned after the heal,
// so an acknowledged write above that revision is lost. Writes whose
// outcome is info need no accounting of their own: if one took effect it
// has a revision, and every watcher must see it like any other.
//
// Verdict: false on any divergence, lost write, or two acknowledged
// writes at one revision; unknown when no watcher saw anything although
// writes were acknowledged; true otherwise.
type Checker struct {
	// StartRevision is where every watch started; zero means
	// DefaultStartRevision.
	StartRevision int64
}

// Name is "watch".
func (Checker) Name() string { return "watch" }

// Divergence is where a watcher's sequence first departs from the
// reference.
type Divergence struct {
	// Position is the event's position in the watcher's sequence, from
	// 0; Op the index of the watch op that delivered it.
	Position int `json:"position"`
	Op       int `json:"op"`
	// Revision is the revision at fault: the one missed, for a gap.
	Revision int64  `json:"revision"`
	Kind     string `json:"kind"`
	Detail   string `json:"detail"`
}

// Watcher is one watcher's sequence, summarized.
type Watcher struct {
	// Name is "p<process> on <node>", or "final op <index> on <node>".
	Name    string          `json:"name"`
	Process harness.Process `json:"process"`
	Final   bool            `json:"final,omitempty"`
	// Events is the sequence's length and Last its last revision.
	Events int   `json:"events"`
	Last   int64 `json:"last"`
	// Reopens counts resumptions of a live watcher's stream.
	Reopens int `json:"reopens,omitempty"`
	// Complete says a final watch reached its target revision.
	Complete   bool        `json:"complete,omitempty"`
	Divergence *Divergence `json:"divergence,omitempty"`
}

// LostWrite is an acknowledged write that the store no longer has.
type LostWrite struct {
	Op       int   `json:"op"`
	Value    int   `json:"value"`
	Revision int64 `json:"revision"`
}

// Details is what the watch checker reports in results.json.
type Details struct {
	Writes       checker.Counts `json:"writes"`
	Watches      checker.Counts `json:"watches"`
	FinalWatches checker.Counts `json:"final_watches"`
	// Revisions is the length of the reference history.
	Revisions int       `json:"revisions"`
	Watchers  []Watcher `json:"watchers"`
	// Diverged counts watchers with a divergence.
	Diverged int `json:"diverged"`
	// FinalRevision is the highest revision a complete final watch had
	// to reach; Lost the acknowledged writes above it.
	FinalRevision int64       `json:"final_revision,omitempty"`
	Lost          []LostWrite `json:"lost,omitempty"`
	// SharedRevisions lists revisions at which two writes were
	// acknowledged.
	SharedRevisions []int64 `json:"shared_revisions,omitempty"`
}

// sequence is one watcher's events, each with the op that delivered it.
type sequence struct {
	w      Watcher
	events []Event
	ops    []int
	target int64
}

// write is what the checker knows of one write's value.
type write struct {
	op       int
	outcome  harness.Type
	revision int64
}

// Check judges h. It writes nothing to out.
func (c Checker) Check(_ context.Context, h harness.History, _ string) harness.Result {
	start := c.StartRevision
	if start == 0 {
		start = DefaultStartRevision
	}
	d := &Details{}
	writes, seqs, err := collect(h, d)
	if err != nil {
		return harness.Result{Valid: harness.ValidUnknown, Summary: []string{"watch: cannot judge a malformed history: " + err.Error()}, Details: d}
	}
	ref := map[int64]string{}
	for _, v := range sortedValues(writes) {
		wr := writes[v]
		if wr.outcome != harness.OK {
			continue
		}
		if _, dup := ref[wr.revision]; dup {
			d.SharedRevisions = append(d.SharedRevisions, wr.revision)
		}
		ref[wr.revision] = strconv.Itoa(v)
	}
	seen := 0
	for _, s := range seqs {
		seen += len(s.events)
		for _, ev := range s.events {
			if _, ok := ref[ev.Revision]; !ok {
				ref[ev.Revision] = ev.Value
			}
		}
	}
	revs := make([]int64, 0, len(ref))
	for r := range ref {
		revs = append(revs, r)
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i] < revs[j] })
	d.Revisions = len(revs)

	for _, s := range seqs {
		s.w.Divergence = diverge(s, start, ref, revs, writes)
		if s.w.Divergence != nil {
			d.Diverged++
		}
		if s.w.Final && s.w.Complete {
			d.FinalRevision = max(d.FinalRevision, s.target)
		}
		d.Watchers = append(d.Watchers, s.w)
	}
	if d.FinalRevision > 0 {
		for _, v := range sortedValues(writes) {
			if wr := writes[v]; wr.outcome == harness.OK && wr.revision > d.FinalRevision {
				d.Lost = append(d.Lost, LostWrite{Op: wr.op, Value: v, Revision: wr.revision})
			}
		}
	}
	valid := harness.ValidTrue
	switch {
	case d.Diverged > 0 || len(d.Lost) > 0 || len(d.SharedRevisions) > 0:
		valid = harness.ValidFalse
	case seen == 0 && d.Writes.OK > 0:
		valid = harness.ValidUnknown
	}
	return harness.Result{Valid: valid, Summary: summary(d), Details: d}
}

// collect reads the writes and the watchers' sequences out of h: live
// watchers by process id, then final watches in history order.
func collect(h harness.History, d *Details) (map[int]*write, []*sequence, error) {
	writes := map[int]*write{}
	live := map[harness.Process]*sequence{}
	var finals []*sequence
	for _, p := range h.Pairs() {
		inv, done := p.Invoke, p.Completion
		if !inv.IsClient() {
			continue
		}
		switch inv.F {
		case Write:
			d.Writes.Add(p)
			var v int
			if err := inv.DecodeValue(&v); err != nil {
				return nil, nil, err
			}
			wr := &write{op: inv.Index, outcome: harness.Info}
			if done != nil && done.Type != harness.Info {
				wr.outcome = done.Type
			}
			if wr.outcome == harness.OK {
				var wv WriteValue
				if err := done.DecodeValue(&wv); err != nil {
					return nil, nil, err
				}
				wr.revision = wv.Revision
			}
			writes[v] = wr
		case Watch, FinalWatch:
			final := inv.F == FinalWatch
			if final {
				d.FinalWatches.Add(p)
			} else {
				d.Watches.Add(p)
			}
			if done == nil || done.Type != harness.OK {
				continue
			}
			var wv WatchValue
			if err := done.DecodeValue(&wv); err != nil {
				return nil, nil, err
			}
			s := live[inv.Process]
			if final {
				s = &sequence{w: Watcher{Name: fmt.Sprintf("final op %d on %s", inv.Index, done.Node), Process: inv.Process, Final: true, Complete: wv.Complete}, target: wv.Target}
				finals = append(finals, s)
			} else if s == nil {
				s = &sequence{w: Watcher{Name: fmt.Sprintf("p%v on %s", inv.Process, done.Node), Process: inv.Process}}
				live[inv.Process] = s
			} else if wv.From != 0 {
				s.w.Reopens++
			}
			for _, ev := range wv.Events {
				s.events = append(s.events, ev)
				s.ops = append(s.ops, inv.Index)
			}
			s.w.Events = len(s.events)
			if n := len(s.events); n > 0 {
				s.w.Last = s.events[n-1].Revision
			}
		}
	}
	procs := make([]harness.Process, 0, len(live))
	for p := range live {
		procs = append(procs, p)
	}
	sort.Slice(procs, func(i, j int) bool { return procs[i] < procs[j] })
	seqs := make([]*sequence, 0, len(live)+len(finals))
	for _, p := range procs {
		seqs = append(seqs, live[p])
	}
	return writes, append(seqs, finals...), nil
}

// diverge returns the first divergence of s from the reference, or nil.
func diverge(s *sequence, start int64, ref map[int64]string, revs []int64, writes map[int]*write) *Divergence {
	prev := start - 1
	for i, ev := range s.events {
		at := func(rev int64, kind, format string, args ...any) *Divergence {
			return &Divergence{Position: i, Op: s.ops[i], Revision: rev, Kind: kind, Detail: fmt.Sprintf(format, args...)}
		}
		switch {
		case i > 0 && ev.Revision == prev:
			return at(ev.Revision, "duplicate", "revision %d delivered again", ev.Revision)
		case ev.Revision < prev:
			return at(ev.Revision, "out-of-order", "revision %d after revision %d", ev.Revision, prev)
		}
		if j := sort.Search(len(revs), func(j int) bool { return revs[j] > prev }); j < len(revs) && revs[j] < ev.Revision {
			missed := revs[j]
			for _, later := range s.events[i+1:] {
				if later.Revision == missed {
					return at(missed, "out-of-order", "revision %d delivered before revision %d", ev.Revision, missed)
				}
			}
			return at(missed, "gap", "missed revision %d (value %s) before revision %d", missed, ref[missed], ev.Revision)
		}
		prev = ev.Revision
		if ev.Delete {
			return at(ev.Revision, "delete", "a delete at revision %d, though nothing deletes the key", ev.Revision)
		}
		if want := ref[ev.Revision]; want != ev.Value {
			return at(ev.Revision, "wrong-value", "value %s at revision %d, where the reference has %s", ev.Value, ev.Revision, want)
		}
		v, err := strconv.Atoi(ev.Value)
		wr, attempted := writes[v]
		switch {
		case err != nil || !attempted:
			return at(ev.Revision, "unknown-value", "value %q at revision %d was never written", ev.Value, ev.Revision)
		case wr.outcome == harness.Fail:
			return at(ev.Revision, "failed-write", "value %d at revision %d comes from write op %d, which failed", v, ev.Revision, wr.op)
		case wr.outcome == harness.OK && wr.revision != ev.Revision:
			return at(ev.Revision, "revision-mismatch", "value %d at revision %d, but write op %d was acknowledged at revision %d", v, ev.Revision, wr.op, wr.revision)
		}
	}
	return nil
}

func sortedValues(writes map[int]*write) []int {
	vs := make([]int, 0, len(writes))
	for v := range writes {
		vs = append(vs, v)
	}
	sort.Ints(vs)
	return vs
}

func summary(d *Details) []string {
	live, final, complete, reopens, longest := 0, 0, 0, 0, 0
	for _, w := range d.Watchers {
		if w.Final {
			final++
			if w.Complete {
				complete++
			}
		} else {
			live++
		}
		reopens += w.Reopens
		longest = max(longest, w.Events)
	}
	lines := []string{fmt.Sprintf("watch: writes %s; live watchers: %d, final watches: %d (complete: %d); revisions: %d, longest sequence: %d events, stream resumptions: %d",
		d.Writes, live, final, complete, d.Revisions, longest, reopens)}
	for _, w := range d.Watchers {
		if v := w.Divergence; v != nil {
			lines = append(lines, fmt.Sprintf("  %s diverges at event %d (op %d): %s: %s", w.Name, v.Position, v.Op, v.Kind, v.Detail))
		}
	}
	for i, l := range d.Lost {
		if i == 10 {
			lines = append(lines, fmt.Sprintf("  ... and %d more lost writes", len(d.Lost)-10))
			break
		}
		lines = append(lines, fmt.Sprintf("  lost: write op %d of value %d, acknowledged at revision %d, above the key's final revision %d", l.Op, l.Value, l.Revision, d.FinalRevision))
	}
	for _, r := range d.SharedRevisions {
		lines = append(lines, fmt.Sprintf("  two writes acknowledged at revision %d", r))
	}
	if len(d.Watchers) == 0 {
		lines = append(lines, "  no watch succeeded: nothing to compare")
	}
	if len(lines) == 1 && len(d.Watchers) > 0 {
		lines = append(lines, "  every watcher saw the same revisions and values, in order, without gaps or duplicates")
	}
	return lines
}
