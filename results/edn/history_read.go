package edn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/faultline/faultline/harness"
)

// OpCheck judges one op read from a history, for a model that cares what
// its values are (CASRegister). Its error is reported at the op's line and
// column.
type OpCheck func(harness.Op) error

// ReadHistory reads a Jepsen history: op maps one after another (as
// Jepsen's store writes history.edn), or one vector or list of them (as
// Knossos's test data and people write them). Comments, commas and #_
// discards may appear anywhere; an op may be a tagged map such as
// #jepsen.history.Op{...}.
//
// An op needs :type (:invoke, :ok, :fail or :info), :f and :process (a
// number, or :nemesis). :time (nanoseconds) and :index are optional: when
// any op lacks :time, every op's time is its position, which keeps the
// real-time order checkers need; when any lacks :index, or the indexes do
// not increase, every op is numbered by position. A client op's :value of
// [k v] is Jepsen's independent key k with value v. :node and :error are
// kept. A missing :value is no value, and so is nil, except on an ok
// completion, where nil is a result: JSON null (a read of nothing).
//
// check, if not nil, judges each op's values. Every error is an *Error
// naming the line and column of the op (or value) at fault.
func ReadHistory(src []byte, check OpCheck) (harness.History, error) {
	r := NewReader(src)
	if err := r.skipSpace(0); err != nil {
		return nil, err
	}
	// Each op is turned into a harness.Op as soon as it is read, so that
	// only one op's EDN tree is alive at a time: a history of millions of
	// ops would not fit in memory as trees.
	lines := bytes.Count(src, []byte{'\n'}) + 1 // ops are usually one a line
	b := historyBuilder{check: check, timed: true, indexed: true, h: make(harness.History, 0, lines), pos: make([]Pos, 0, lines)}
	if c := r.peek(); c == '[' || c == '(' {
		closer := map[rune]rune{'[': ']', '(': ')'}[c]
		open := r.Pos()
		r.next()
		for {
			if err := r.skipSpace(1); err != nil {
				return nil, err
			}
			if r.atEnd() {
				return nil, &Error{Pos: open, Msg: "the history opened here is never closed"}
			}
			if r.peek() == closer {
				r.next()
				break
			}
			v, err := r.value(1)
			if err != nil {
				return nil, err
			}
			if err := b.add(v); err != nil {
				return nil, err
			}
			r.recycle(untagged(v))
		}
		if extra, err := r.Read(); err == nil {
			return nil, &Error{Pos: extra.Pos, Msg: "unexpected value after the history's closing " + string(closer)}
		} else if !errors.Is(err, io.EOF) {
			return nil, err
		}
	} else {
		for {
			v, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			if err := b.add(v); err != nil {
				return nil, err
			}
			r.recycle(untagged(v))
		}
	}
	return b.finish()
}

// ReadHistoryFile reads the history in the file at path; see ReadHistory.
// Errors name the file: "path: line 3, column 14: ...".
func ReadHistoryFile(path string, check OpCheck) (harness.History, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	h, err := ReadHistory(src, check)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// historyBuilder collects the ops of a history as they are read.
type historyBuilder struct {
	check          OpCheck
	h              harness.History
	pos            []Pos
	timed, indexed bool
}

// add reads one op map and checks its values.
func (b *historyBuilder) add(v Value) error {
	op, hasTime, hasIndex, err := opOf(v)
	if err != nil {
		return err
	}
	n := len(b.h)
	b.timed = b.timed && hasTime
	b.indexed = b.indexed && hasIndex && (n == 0 || op.Index > b.h[n-1].Index)
	if b.check != nil {
		if err := b.check(op); err != nil {
			return &Error{Pos: v.Pos, Msg: err.Error()}
		}
	}
	b.h = append(b.h, op)
	b.pos = append(b.pos, v.Pos)
	return nil
}

// finish numbers and times the ops as ReadHistory promises, and checks
// that each process has at most one op in flight.
//
// Two things Jepsen's own histories do are read as Jepsen means them. Its
// nemesis records an op as an :info invocation and an :info completion:
// an :info of a nemesis with nothing in flight is its invocation. And
// :time, taken by each worker from its own clock reading, may go back a
// little from one process's op to another's: the history's order is the
// order things happened in, so a time that goes back is raised to the one
// before it. A process's own time never goes back.
func (b *historyBuilder) finish() (harness.History, error) {
	h := b.h
	inFlight := map[harness.Process]bool{}
	lastOf := map[harness.Process]time.Duration{}
	for i := range h {
		if !b.indexed {
			h[i].Index = i
		}
		if !b.timed {
			h[i].Time = time.Duration(i)
		}
		if t, ok := lastOf[h[i].Process]; ok && h[i].Time < t {
			return nil, &Error{Pos: b.pos[i], Msg: fmt.Sprintf(":time %d goes back from process %v's previous op's %d", h[i].Time, h[i].Process, t)}
		}
		lastOf[h[i].Process] = h[i].Time
		if i > 0 && h[i].Time < h[i-1].Time {
			h[i].Time = h[i-1].Time
		}
		if !h[i].IsClient() && h[i].Type == harness.Info && !inFlight[h[i].Process] {
			h[i].Type = harness.Invoke
		}
		op, at := h[i], b.pos[i]
		switch {
		case op.Type == harness.Invoke && inFlight[op.Process]:
			return nil, &Error{Pos: at, Msg: fmt.Sprintf("process %v invokes while its previous op is still in flight", op.Process)}
		case op.Type != harness.Invoke && !inFlight[op.Process]:
			return nil, &Error{Pos: at, Msg: fmt.Sprintf("process %v completes an op it never invoked", op.Process)}
		}
		inFlight[op.Process] = op.Type == harness.Invoke
	}
	return h, nil
}

// opTypes maps Jepsen's op types to faultline's.
var opTypes = map[string]harness.Type{"invoke": harness.Invoke, "ok": harness.OK, "fail": harness.Fail, "info": harness.Info}

// opOf reads one op map.
func opOf(v Value) (op harness.Op, hasTime, hasIndex bool, err error) {
	if v.Kind == Tagged && len(v.Items) == 1 && v.Items[0].Kind == Map {
		v = v.Items[0] // #jepsen.history.Op{...}
	}
	if v.Kind != Map {
		return op, false, false, &Error{Pos: v.Pos, Msg: fmt.Sprintf("an op must be a map, got a %s", v.Kind)}
	}
	fail := func(at Value, format string, args ...any) (harness.Op, bool, bool, error) {
		return op, false, false, &Error{Pos: at.Pos, Msg: fmt.Sprintf(format, args...)}
	}
	t, ok := v.Get("type")
	if !ok {
		return fail(v, "op has no :type")
	}
	if op.Type, ok = opTypes[t.Str]; !ok || t.Kind != Keyword {
		return fail(t, ":type must be :invoke, :ok, :fail or :info, got %s", t)
	}
	f, ok := v.Get("f")
	if !ok {
		return fail(v, "op has no :f")
	}
	if f.Kind != Keyword && f.Kind != String && f.Kind != Symbol {
		return fail(f, ":f must be a keyword, got %s", f)
	}
	op.F = f.Str
	p, ok := v.Get("process")
	switch {
	case !ok:
		return fail(v, "op has no :process")
	case p.IsKeyword("nemesis"):
		op.Process = harness.NemesisProcess
	case p.IsKeyword("monitor"):
		op.Process = harness.MonitorProcess
	case p.Kind == Int && p.Int >= 0 && p.Int <= 1<<31:
		op.Process = harness.Process(p.Int)
	default:
		return fail(p, ":process must be a non-negative number, :nemesis or :monitor, got %s", p)
	}
	if at, ok := v.Get("time"); ok {
		if at.Kind != Int || at.Int < 0 {
			return fail(at, ":time must be a non-negative number of nanoseconds, got %s", at)
		}
		op.Time, hasTime = time.Duration(at.Int), true
	}
	if i, ok := v.Get("index"); ok {
		if i.Kind != Int || i.Int < 0 || i.Int > 1<<50 {
			return fail(i, ":index must be a non-negative number, got %s", i)
		}
		op.Index, hasIndex = int(i.Int), true
	}
	if e, ok := v.Get("error"); ok && e.Kind != Nil {
		op.Error = e.String()
		if e.Kind == String {
			op.Error = e.Str
		}
	}
	if n, ok := v.Get("node"); ok && (n.Kind == String || n.Kind == Keyword) {
		op.Node = n.Str
	}
	for key, into := range map[string]*int64{"revision": &op.Revision, "mod-revision": &op.ModRevision} {
		if r, ok := v.Get(key); ok && r.Kind == Int && r.Int > 0 {
			*into = r.Int
		}
	}
	value, ok := v.Get("value")
	if !ok {
		return op, hasTime, hasIndex, nil
	}
	value = untagged(value)
	if op.IsClient() && isIndependent(op.F, value) {
		k := untagged(value.Items[0])
		switch k.Kind {
		case Keyword, String:
			op.Key = k.Str
			if k.Str == "" {
				return fail(k, "an independent key must not be empty")
			}
		case Int:
			op.Key = strconv.FormatInt(k.Int, 10)
		case BigInt:
			op.Key = k.Big.String()
		default:
			return fail(k, "an independent key must be a keyword, string or integer, got %s", k)
		}
		value = untagged(value.Items[1])
	}
	if value.Kind == Nil && op.Type != harness.OK {
		return op, hasTime, hasIndex, nil // an argument or a result not there
	}
	if op.Value, err = ToJSON(value); err != nil {
		return op, false, false, err
	}
	return op, hasTime, hasIndex, nil
}

// untagged strips tags: #object[...] and the like are their value.
func untagged(v Value) Value {
	for v.Kind == Tagged && len(v.Items) == 1 {
		v = v.Items[0]
	}
	return v
}

// isIndependent reports whether a client op's value is Jepsen's
// independent [key value] tuple. A cas's own value is [old new], so a cas
// is a tuple only when its second element is itself a sequence.
func isIndependent(f string, value Value) bool {
	if !value.IsSeq() || len(value.Items) != 2 {
		return false
	}
	return f != "cas" || value.Items[1].IsSeq()
}

// formatKey renders an independent key as EDN: a keyword when the key is a
// valid keyword name, an integer when it is one, else a string.
func formatKey(key string) string {
	if n, err := strconv.ParseInt(key, 10, 64); err == nil && strconv.FormatInt(n, 10) == key {
		return key
	}
	if isKeywordName(key) {
		return ":" + key
	}
	return Quote(key)
}
