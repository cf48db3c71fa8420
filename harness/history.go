package harness

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// History is every invocation and completion of a test, in the order they
// happened.
type History []Op

// Pair is an invocation with its completion. Completion is nil for an op
// that never completed (the harness stopped first); checkers treat such an
// op like info.
type Pair struct {
	Invoke     Op
	Completion *Op
}

// Pairs matches every invocation with the completion from the same process.
// A process has at most one op in flight, so the next record of that
// process completes it. Pairs are returned in invocation order.
func (h History) Pairs() []Pair {
	open := map[Process]int{}
	var pairs []Pair
	for _, op := range h {
		if op.Type == Invoke {
			open[op.Process] = len(pairs)
			pairs = append(pairs, Pair{Invoke: op})
			continue
		}
		if i, ok := open[op.Process]; ok {
			c := op
			pairs[i].Completion = &c
			delete(open, op.Process)
		}
	}
	return pairs
}

// Client returns the ops of client processes only.
func (h History) Client() History {
	var out History
	for _, op := range h {
		if op.IsClient() {
			out = append(out, op)
		}
	}
	return out
}

// Nemesis returns the nemesis ops only.
func (h History) Nemesis() History {
	var out History
	for _, op := range h {
		if !op.IsClient() {
			out = append(out, op)
		}
	}
	return out
}

// Validate checks the structural invariants every checker relies on: indexes
// strictly increasing, times non-decreasing, known types, and no process with
// two ops in flight or a completion without an invocation. Its error is a
// *HistoryError saying at which position of h the fault is.
func (h History) Validate() error {
	if err := h.validate(); err != nil {
		return err
	}
	return nil
}

// HistoryError is a fault of a history's structure at Position, the op's
// place in the history from 0.
type HistoryError struct {
	Position int
	Msg      string
}

func (e *HistoryError) Error() string { return e.Msg }

func (h History) validate() *HistoryError {
	inFlight := map[Process]bool{}
	for i, op := range h {
		bad := func(format string, args ...any) *HistoryError {
			return &HistoryError{Position: i, Msg: fmt.Sprintf(format, args...)}
		}
		if i > 0 && op.Index <= h[i-1].Index {
			return bad("op %d: index not increasing (previous %d)", op.Index, h[i-1].Index)
		}
		if i > 0 && op.Time < h[i-1].Time {
			return bad("op %d: time %v goes backwards (previous %v)", op.Index, op.Time, h[i-1].Time)
		}
		switch op.Type {
		case Invoke:
			if inFlight[op.Process] {
				return bad("op %d: process %v invoked while another op is in flight", op.Index, op.Process)
			}
			inFlight[op.Process] = true
		case OK, Fail, Info:
			if !inFlight[op.Process] {
				return bad("op %d: process %v completed %s without an invocation", op.Index, op.Process, Shorten(op.F, 60))
			}
			delete(inFlight, op.Process)
		default:
			return bad("op %d: unknown type %s (want invoke, ok, fail or info)", op.Index, Quote(string(op.Type)))
		}
	}
	return nil
}

// SortByIndex orders a history by op index.
func (h History) SortByIndex() {
	sort.SliceStable(h, func(i, j int) bool { return h[i].Index < h[j].Index })
}

// ReadJSONL reads a history written one JSON op per line. A torn last line,
// as a killed harness leaves, is dropped: the prefix before it is a valid
// history. A torn line is the beginning of an op, after at least one whole
// op; any other malformed line is an error naming its line number.
func ReadJSONL(r io.Reader) (History, error) {
	h, _, err := ReadJSONLLines(r)
	return h, err
}

// ReadJSONLLines is ReadJSONL that also returns the line of each op, for
// messages about a history's structure (see HistoryError).
func ReadJSONLLines(r io.Reader) (History, []int, error) {
	var h History
	var lines []int
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	line := 0
	var pendingErr error
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if pendingErr != nil {
			return nil, nil, pendingErr
		}
		var op Op
		if err := json.Unmarshal(b, &op); err != nil {
			err = fmt.Errorf("history line %d: %s", line, Shorten(err.Error(), 200))
			if len(h) == 0 || b[0] != '{' {
				return nil, nil, err // no op before it, or no op at all: not a torn tail
			}
			// Only the very last line may be torn; remember and fail if
			// anything follows it.
			pendingErr = err
			continue
		}
		h = append(h, op)
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read history: %w", err)
	}
	return h, lines, nil
}

// ReadJSONLFile reads a history file; see ReadJSONL.
func ReadJSONLFile(path string) (History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	defer f.Close()
	h, err := ReadJSONL(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// WriteJSONL writes a history one op per line.
func WriteJSONL(w io.Writer, h History) error {
	enc := json.NewEncoder(w)
	for _, op := range h {
		if err := enc.Encode(op); err != nil {
			return fmt.Errorf("write op %d: %w", op.Index, err)
		}
	}
	return nil
}

// ErrClosed is returned when recording into a closed recorder.
var ErrClosed = errors.New("recorder closed")
