package register

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/checker/linearizable"
	"github.com/faultline/faultline/harness"
)

// The register's functions.
const (
	Read  = "read"
	Write = "write"
	CAS   = "cas"
)

// Swap is the value of a cas op, [old, new]: set the register to new if it
// holds old.
type Swap [2]int

// UnmarshalJSON reads [old, new] and refuses any other length, which a
// plain [2]int would pad or truncate silently.
func (s *Swap) UnmarshalJSON(b []byte) error {
	var pair []int
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	if len(pair) != 2 {
		return fmt.Errorf("cas value must be [old, new], got %s", b)
	}
	*s = Swap{pair[0], pair[1]}
	return nil
}

// state is one key's register: absent until the first write.
type state struct {
	value   int
	present bool
}

// input is what an op asks of the register.
type input struct {
	f        string
	value    int // write
	old, new int // cas
}

// output is what an op saw. For a read it is the value read; known is
// false when the outcome is unknown (info, or never completed).
type output struct {
	known   bool
	value   int
	present bool
}

// Model is the cas-register of one key, for the linearizable checker. The
// register starts absent; a read of an absent register returns null. A
// write always succeeds; a cas succeeds only if the register holds old
// (an absent register holds nothing, so a cas on it fails).
//
// Ops of unknown outcome: a write or cas with an info (or no) completion
// is checked with an open-ended return, and its step never refuses it: an
// unknown cas whose old value does not match simply changes nothing, which
// is the same as porcupine placing it after every other op, "it never
// happened". An unknown read changed and saw nothing, so it is dropped.
func Model() linearizable.Model {
	return linearizable.Model{
		Spec: porcupine.Model{
			Init:              func() any { return state{} },
			Step:              step,
			Hash:              hashState,
			DescribeOperation: describeOperation,
			DescribeState:     describeState,
		},
		Decode: decode,
	}
}

func step(s, in, out any) (bool, any) {
	st, i, o := s.(state), in.(input), out.(output)
	switch i.f {
	case Read:
		if !o.known {
			return true, st
		}
		return o.present == st.present && (!o.present || o.value == st.value), st
	case Write:
		return true, state{value: i.value, present: true}
	case CAS:
		matches := st.present && st.value == i.old
		if matches {
			return true, state{value: i.new, present: true}
		}
		// A known cas that completed ok must have matched; an unknown one
		// that did not match failed and changed nothing.
		return !o.known, st
	}
	return false, st
}

func hashState(s any) uint64 {
	st := s.(state)
	if !st.present {
		return 0
	}
	return uint64(st.value)<<1 | 1
}

func describeOperation(in, out any) string {
	i, o := in.(input), out.(output)
	var s string
	switch i.f {
	case Read:
		s = "read -> " + describeValue(o.value, o.present)
		if !o.known {
			s = "read -> ?"
		}
	case Write:
		s = fmt.Sprintf("write %d", i.value)
	case CAS:
		s = fmt.Sprintf("cas %d -> %d", i.old, i.new)
	default:
		s = i.f
	}
	if !o.known && i.f != Read {
		s += " ?"
	}
	return s
}

func describeState(s any) string {
	st := s.(state)
	return describeValue(st.value, st.present)
}

func describeValue(v int, present bool) string {
	if !present {
		return "nil"
	}
	return strconv.Itoa(v)
}

// decode reads a register op of the history as the model's input and
// output. completion is ok, info, or nil (never completed).
func decode(invoke harness.Op, completion *harness.Op) (any, any, bool, error) {
	known := completion != nil && completion.Type == harness.OK
	switch invoke.F {
	case Read:
		if !known {
			return nil, nil, false, nil
		}
		var v *int
		if err := completion.DecodeValue(&v); err != nil {
			return nil, nil, false, err
		}
		out := output{known: true}
		if v != nil {
			out.value, out.present = *v, true
		}
		return input{f: Read}, out, true, nil
	case Write:
		var v int
		if err := invoke.DecodeValue(&v); err != nil {
			return nil, nil, false, err
		}
		return input{f: Write, value: v}, output{known: known}, true, nil
	case CAS:
		var sw Swap
		if err := invoke.DecodeValue(&sw); err != nil {
			return nil, nil, false, err
		}
		return input{f: CAS, old: sw[0], new: sw[1]}, output{known: known}, true, nil
	}
	return nil, nil, false, fmt.Errorf("unknown register f %q (want read, write or cas)", invoke.F)
}

// readValue encodes a read's result: the int, or null when absent.
func readValue(v int, present bool) json.RawMessage {
	if !present {
		return json.RawMessage("null")
	}
	return harness.MustValue(v)
}
