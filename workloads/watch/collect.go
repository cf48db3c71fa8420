package watch

import (
	"fmt"
	"strconv"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/harness"
)

// writeOp is one put, delete or txn as the history shows it.
type writeOp struct {
	op      int // the invocation's index
	f       string
	outcome harness.Type // ok, fail, or info (also for no completion)
	muts    []Mutation
	// revision and deleted are an ok write's WriteResult.
	revision int64
	deleted  map[string]int64
	// invoked is its invocation's position in the history, for
	// real-time order.
	invoked int
}

// changes are the events an ok write created at its revision: its puts,
// and its deletes of keys that existed. None for a write that changed
// nothing (deletes of keys that did not exist), which took no revision.
func (w *writeOp) changes() []Event {
	var evs []Event
	for _, m := range w.muts {
		switch {
		case m.Type == TypePut:
			evs = append(evs, Event{Revision: w.revision, Key: m.Key, Type: TypePut, Value: strconv.Itoa(m.Value)})
		case w.deleted[m.Key] > 0:
			evs = append(evs, Event{Revision: w.revision, Key: m.Key, Type: TypeDelete})
		}
	}
	return evs
}

// name says which write w is, for messages.
func (w *writeOp) name() string { return fmt.Sprintf("%s op %d", w.f, w.op) }

// compactOp is one compaction, a client's or a nemesis's.
type compactOp struct {
	op      int
	outcome harness.Type
	// revision is the revision compacted to, when the history says.
	revision int64
	known    bool
	// completed is its completion's position, -1 without one.
	completed int
}

// delivered is one event as a watch delivered it: the response it came
// in (its index in the watch's responses) and the op that read it.
type delivered struct {
	Event
	resp int
	op   int
}

// response is one response of a watch with the op that read it.
type response struct {
	Response
	op int
}

// watchRec is one watch: what one Watch call asked for and everything it
// delivered, across the ops that read it. A live session's watches and
// each page of a final watch are watches.
type watchRec struct {
	name    string
	process harness.Process
	node    string
	final   bool
	spec    WatchSpec
	// from is the revision it asked for (0: now); fromKnown is false when
	// the op that opened it is missing from the history.
	from      int64
	fromKnown bool
	responses []response
	events    []delivered
}

// finalRec is one final watch.
type finalRec struct {
	op       int
	node     string
	target   int64
	complete bool
	failed   string // why the final read failed, if it did
	err      string
	pages    []*watchRec
}

// name says which final watch f is.
func (f *finalRec) name() string { return fmt.Sprintf("final op %d on %s", f.op, f.node) }

// record is everything the checker reads out of a history.
type record struct {
	writes []*writeOp
	// puts maps a put value to its write.
	puts     map[int]*writeOp
	watches  []*watchRec
	finals   []*finalRec
	compacts []compactOp
	counts   Counts
}

// Counts are the history's ops and what they delivered.
type Counts struct {
	Writes       checker.Counts `json:"writes"`
	Puts         int            `json:"puts"`
	Deletes      int            `json:"deletes"`
	Txns         int            `json:"txns"`
	Compactions  checker.Counts `json:"compactions"`
	WatchOps     checker.Counts `json:"watch_ops"`
	Sessions     int            `json:"sessions"`
	Watches      int            `json:"watches"`
	Failover     int            `json:"failover_watches"`
	Events       int            `json:"events"`
	Progress     int            `json:"progress_notifications"`
	Compacted    int            `json:"compaction_cancels"`
	FinalWatches checker.Counts `json:"final_watches"`
}

// collect reads h.
func collect(h harness.History) (*record, error) {
	rec := &record{puts: map[int]*writeOp{}}
	pos := map[int]int{}
	for i, op := range h {
		pos[op.Index] = i
	}
	live := map[string]*watchRec{}
	sessions := map[string]bool{}
	for _, p := range h.Pairs() {
		inv, done := p.Invoke, p.Completion
		completed := -1
		if done != nil {
			completed = pos[done.Index]
		}
		switch inv.F {
		case Put, Delete, Txn:
			if !inv.IsClient() {
				continue
			}
			w, err := readWrite(inv, done)
			if err != nil {
				return nil, err
			}
			w.invoked = pos[inv.Index]
			rec.writes = append(rec.writes, w)
			rec.counts.Writes.Add(p)
			for _, m := range w.muts {
				if m.Type == TypePut {
					rec.puts[m.Value] = w
				}
			}
			switch inv.F {
			case Put:
				rec.counts.Puts++
			case Delete:
				rec.counts.Deletes++
			default:
				rec.counts.Txns++
			}
		case Compact:
			c, err := readCompact(inv, done)
			if err != nil {
				return nil, err
			}
			c.completed = completed
			rec.compacts = append(rec.compacts, c)
			rec.counts.Compactions.Add(p)
		case Watch:
			if !inv.IsClient() {
				continue
			}
			rec.counts.WatchOps.Add(p)
			if err := rec.readWatch(inv, done, live, sessions); err != nil {
				return nil, err
			}
		case FinalWatch:
			if !inv.IsClient() {
				continue
			}
			rec.counts.FinalWatches.Add(p)
			if err := rec.readFinal(inv, done); err != nil {
				return nil, err
			}
		}
	}
	rec.counts.Sessions = len(sessions)
	for _, w := range rec.watches {
		if !w.final {
			rec.counts.Watches++
			if w.spec.Failover {
				rec.counts.Failover++
			}
		}
		for _, r := range w.responses {
			rec.counts.Events += len(r.Events)
			if r.Progress {
				rec.counts.Progress++
			}
			if r.CompactRevision > 0 {
				rec.counts.Compacted++
			}
		}
	}
	return rec, nil
}

// readWrite reads a put, delete or txn.
func readWrite(inv harness.Op, done *harness.Op) (*writeOp, error) {
	w := &writeOp{op: inv.Index, f: inv.F, outcome: harness.Info}
	switch inv.F {
	case Put:
		var v int
		if err := inv.DecodeValue(&v); err != nil {
			return nil, err
		}
		w.muts = []Mutation{{Type: TypePut, Key: inv.Key, Value: v}}
	case Delete:
		w.muts = []Mutation{{Type: TypeDelete, Key: inv.Key}}
	default:
		if err := inv.DecodeValue(&w.muts); err != nil {
			return nil, err
		}
	}
	if done == nil || done.Type == harness.Info {
		return w, nil
	}
	w.outcome = done.Type
	if done.Type == harness.OK {
		var res WriteResult
		if err := done.DecodeValue(&res); err != nil {
			return nil, err
		}
		w.revision, w.deleted = res.Revision, res.Deleted
	}
	return w, nil
}

// readCompact reads a compaction: its revision is in its completion's
// value, or else in its invocation's.
func readCompact(inv harness.Op, done *harness.Op) (compactOp, error) {
	c := compactOp{op: inv.Index, outcome: harness.Info}
	if done != nil {
		c.outcome = done.Type
	}
	for _, op := range []*harness.Op{done, &inv} {
		if op == nil || len(op.Value) == 0 {
			continue
		}
		var v CompactValue
		if err := op.DecodeValue(&v); err != nil {
			return c, err
		}
		if v.Revision > 0 {
			c.revision, c.known = v.Revision, true
			break
		}
	}
	return c, nil
}

// readWatch adds one watch op's responses to its watch.
func (rec *record) readWatch(inv harness.Op, done *harness.Op, live map[string]*watchRec, sessions map[string]bool) error {
	var spec WatchSpec
	if err := inv.DecodeValue(&spec); err != nil {
		return err
	}
	sessions[fmt.Sprintf("%d/%d", inv.Process, spec.Session)] = true
	if done == nil || len(done.Value) == 0 || done.Type == harness.Info {
		return nil
	}
	var v WatchValue
	if err := done.DecodeValue(&v); err != nil {
		return err
	}
	id := fmt.Sprintf("%d/%d/%d", inv.Process, spec.Session, v.Watch)
	w := live[id]
	if w == nil || v.From != nil {
		w = &watchRec{
			name:    fmt.Sprintf("p%v session %d watch %d on %s", inv.Process, spec.Session, v.Watch, done.Node),
			process: inv.Process, node: done.Node, spec: spec,
		}
		if v.From != nil {
			w.from, w.fromKnown = *v.From, true
		}
		live[id] = w
		rec.watches = append(rec.watches, w)
	}
	w.add(v.Responses, inv.Index)
	return nil
}

// readFinal adds a final watch and its pages.
func (rec *record) readFinal(inv harness.Op, done *harness.Op) error {
	f := &finalRec{op: inv.Index, node: inv.Node}
	rec.finals = append(rec.finals, f)
	switch {
	case done == nil:
		f.failed = "no completion"
		return nil
	case done.Type != harness.OK:
		f.failed = done.Error
		if f.failed == "" {
			f.failed = string(done.Type)
		}
		return nil
	}
	var v FinalValue
	if err := done.DecodeValue(&v); err != nil {
		return err
	}
	f.target, f.complete, f.err = v.Target, v.Complete, v.Error
	for i, p := range v.Pages {
		w := &watchRec{
			name:    fmt.Sprintf("%s page %d", f.name(), i+1),
			process: inv.Process, node: inv.Node, final: true,
			spec: WatchSpec{Prefix: true}, from: p.From, fromKnown: true,
		}
		w.add(p.Responses, inv.Index)
		f.pages = append(f.pages, w)
		rec.watches = append(rec.watches, w)
	}
	return nil
}

// add appends responses read by op.
func (w *watchRec) add(rs []Response, op int) {
	for _, r := range rs {
		w.responses = append(w.responses, response{Response: r, op: op})
		for _, e := range r.Events {
			w.events = append(w.events, delivered{Event: e, resp: len(w.responses) - 1, op: op})
		}
	}
}
