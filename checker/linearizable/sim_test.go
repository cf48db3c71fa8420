package linearizable_test

import (
	"container/heap"
	"math/rand"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/register"
)

// simBug is a scripted bug of the simulated store.
type simBug int

const (
	noBug simBug = iota
	// staleReads makes some reads return the value the key held before
	// its latest write, as a read served by a lagging follower would.
	staleReads
	// lostWrites makes some acknowledged writes never take effect.
	lostWrites
)

// simConfig shapes a simulated run.
type simConfig struct {
	seed        int64
	concurrency int
	invocations int
	// infoRate is the share of writes and cas ops that end info; half of
	// those take effect anyway.
	infoRate float64
	bug      simBug
}

// simulate runs the register generator against an in-memory,
// linearizable-unless-bugged register store in virtual time: each op takes
// effect atomically at a random instant between its invocation and its
// completion. It returns the history, deterministically for a config.
func simulate(cfg simConfig) harness.History {
	r := rand.New(rand.NewSource(cfg.seed))
	gen, err := register.NewGenerator(register.GeneratorOptions{})
	if err != nil {
		panic(err)
	}
	s := &sim{cfg: cfg, r: r, gen: gen, store: map[string]simValue{}, previous: map[string]simValue{}}
	for i := range cfg.concurrency {
		s.schedule(time.Duration(r.Intn(1000))*time.Microsecond, simEvent{kind: invokeEvent, process: harness.Process(i)})
	}
	for s.events.Len() > 0 {
		e := heap.Pop(&s.events).(simEvent)
		s.handle(e)
	}
	return s.history
}

type simValue struct {
	value   int
	present bool
}

type sim struct {
	cfg      simConfig
	r        *rand.Rand
	gen      *register.Generator
	store    map[string]simValue
	previous map[string]simValue
	history  harness.History
	events   simQueue
	seq      int
	invoked  int
}

type simEventKind int

const (
	invokeEvent simEventKind = iota
	applyEvent
	completeEvent
)

type simEvent struct {
	at      time.Duration
	seq     int
	kind    simEventKind
	process harness.Process
	op      harness.Op // the invocation
	outcome harness.Type
	// result is the completion value, filled in when the op applies.
	result *harness.Op
}

func (s *sim) schedule(at time.Duration, e simEvent) {
	e.at, e.seq = at, s.seq
	s.seq++
	heap.Push(&s.events, e)
}

func (s *sim) record(op harness.Op, at time.Duration) harness.Op {
	op.Index, op.Time = len(s.history), at
	s.history = append(s.history, op)
	return op
}

func (s *sim) handle(e simEvent) {
	switch e.kind {
	case invokeEvent:
		if s.invoked == s.cfg.invocations {
			return
		}
		s.invoked++
		op, _ := s.gen.Next(s.r, e.process)
		op.Process, op.Type = e.process, harness.Invoke
		op = s.record(op, e.at)
		outcome := harness.OK
		if op.F != register.Read && s.r.Float64() < s.cfg.infoRate {
			outcome = harness.Info
		}
		done := op.Completion(outcome)
		apply := e.at + time.Duration(1+s.r.Intn(5000))*time.Microsecond
		ret := apply + time.Duration(1+s.r.Intn(5000))*time.Microsecond
		if outcome == harness.Info {
			ret = e.at + 20*time.Millisecond
			if s.r.Intn(2) == 0 {
				apply = -1 // never takes effect
			} else {
				apply = e.at + time.Duration(s.r.Intn(40000))*time.Microsecond
			}
		}
		if apply >= 0 {
			s.schedule(apply, simEvent{kind: applyEvent, op: op, result: &done})
		}
		s.schedule(ret, simEvent{kind: completeEvent, process: e.process, op: op, result: &done})
	case applyEvent:
		s.apply(e.op, e.result)
	case completeEvent:
		done := s.record(*e.result, e.at)
		s.gen.Observe(done)
		next := e.process
		if done.Type == harness.Info {
			next += harness.Process(s.cfg.concurrency)
		}
		s.schedule(e.at+time.Duration(s.r.Intn(500))*time.Microsecond, simEvent{kind: invokeEvent, process: next})
	}
}

// apply performs op on the store at this instant and fills in done.
func (s *sim) apply(op harness.Op, done *harness.Op) {
	cur := s.store[op.Key]
	switch op.F {
	case register.Read:
		seen := cur
		if s.cfg.bug == staleReads && s.r.Intn(10) == 0 {
			seen = s.previous[op.Key]
		}
		done.Value = harness.MustValue(nil)
		if seen.present {
			done.Value = harness.MustValue(seen.value)
		}
	case register.Write:
		var v int
		_ = op.DecodeValue(&v)
		if s.cfg.bug == lostWrites && s.r.Intn(10) == 0 {
			return
		}
		s.previous[op.Key], s.store[op.Key] = cur, simValue{value: v, present: true}
	case register.CAS:
		var sw register.Swap
		_ = op.DecodeValue(&sw)
		if !cur.present || cur.value != sw[0] {
			if done.Type == harness.OK {
				done.Type, done.Error = harness.Fail, "compare failed"
			}
			return
		}
		s.previous[op.Key], s.store[op.Key] = cur, simValue{value: sw[1], present: true}
	}
}

// simQueue orders events by time, then by scheduling order.
type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}
