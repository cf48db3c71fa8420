// Package harness holds faultline's core: the operation and history types,
// the interfaces through which the runner sees clients, nemeses, checkers and
// the cluster, and the runner itself. Nothing here imports Docker or gRPC, so
// the whole core runs against fakes in unit tests.
package harness

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Type is the kind of an operation record, as in Jepsen.
type Type string

// The four op types. An invocation is completed by exactly one of ok, fail or
// info. A fail certainly did not happen; an info may or may not have.
const (
	Invoke Type = "invoke"
	OK     Type = "ok"
	Fail   Type = "fail"
	Info   Type = "info"
)

// Process identifies one logical client thread. An op whose outcome is
// unknown retires its process, and the thread continues under a fresh id.
// NemesisProcess is the fault injector; it is written as "nemesis" in JSON.
type Process int

// NemesisProcess is the process id of the nemesis.
const NemesisProcess Process = -1

// MonitorProcess is the process id of the harness's own observations of
// the cluster, such as a DB process that exited by itself: events the
// nemesis did not cause. It is written as "monitor" in JSON.
const MonitorProcess Process = -2

// MarshalJSON writes client processes as numbers, the nemesis as
// "nemesis" and the monitor as "monitor".
func (p Process) MarshalJSON() ([]byte, error) {
	switch p {
	case NemesisProcess:
		return []byte(`"nemesis"`), nil
	case MonitorProcess:
		return []byte(`"monitor"`), nil
	}
	return strconv.AppendInt(nil, int64(p), 10), nil
}

// UnmarshalJSON accepts a number from 0 up, "nemesis" or "monitor".
func (p *Process) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"nemesis"`:
		*p = NemesisProcess
		return nil
	case `"monitor"`:
		*p = MonitorProcess
		return nil
	}
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 {
		return fmt.Errorf("process must be a number from 0 up, \"nemesis\" or \"monitor\", got %s", Shorten(string(b), 40))
	}
	*p = Process(n)
	return nil
}

// String renders the process as Jepsen does.
func (p Process) String() string {
	switch p {
	case NemesisProcess:
		return "nemesis"
	case MonitorProcess:
		return "monitor"
	}
	return strconv.Itoa(int(p))
}

// Op is one record of the history: an invocation or its completion.
//
// Value is workload-specific JSON (a register write carries an int, a cas an
// [old, new] pair, a nemesis partition its groups). Keeping it raw lets every
// workload own its encoding while the history stays one uniform stream that
// round-trips byte for byte.
type Op struct {
	// Index is the op's position in the history, assigned when recorded.
	Index int `json:"index"`
	// Process is the client thread, or NemesisProcess.
	Process Process `json:"process"`
	// Type is invoke, ok, fail or info.
	Type Type `json:"type"`
	// F is the function: read, write, cas, start-partition, kill, ...
	F string `json:"f"`
	// Key is the independent key the op acts on, if any.
	Key string `json:"key,omitempty"`
	// Value is the op's argument on invoke and its result on completion.
	Value json.RawMessage `json:"value,omitempty"`
	// Time is the monotonic time since the test started.
	Time time.Duration `json:"time"`
	// Node is the node the client is pinned to, or the nodes a fault hit.
	Node string `json:"node,omitempty"`
	// Error explains a fail or info completion.
	Error string `json:"error,omitempty"`
	// Revision is the store's revision in the header of the response an
	// ok completion carries (etcd's header revision); 0 when unknown.
	Revision int64 `json:"revision,omitempty"`
	// ModRevision is, for an ok read of one key, the revision the value it
	// read was written at (0 for an absent key); for an ok write, the
	// revision it wrote. 0 when unknown.
	ModRevision int64 `json:"mod_revision,omitempty"`
}

// Completion returns a copy of the invocation op completed with type t.
func (o Op) Completion(t Type) Op {
	c := o
	c.Type = t
	c.Index = 0
	return c
}

// DecodeValue unmarshals the op's value into v.
func (o Op) DecodeValue(v any) error {
	if len(o.Value) == 0 {
		return fmt.Errorf("op %d (%s %s) has no value", o.Index, o.F, o.Type)
	}
	if err := json.Unmarshal(o.Value, v); err != nil {
		return fmt.Errorf("op %d (%s %s): decode value %s: %w", o.Index, o.F, o.Type, o.Value, err)
	}
	return nil
}

// MustValue encodes v as an op value. It panics only on values that cannot
// be JSON at all (channels, funcs), which is a programming error.
func MustValue(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("harness: op value %T is not JSON: %v", v, err))
	}
	return b
}

// IsClient reports whether the op belongs to a client process.
func (o Op) IsClient() bool { return o.Process >= 0 }
