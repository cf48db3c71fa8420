package harness

import (
	"context"
	"encoding/json"
	"fmt"
)

// Valid is a three-valued verdict. Unknown is an honest answer (a check ran
// out of time, or the history cannot decide), not an error.
type Valid int

// Verdicts, ordered so that a larger value is worse: merging takes the max.
const (
	ValidTrue Valid = iota
	ValidUnknown
	ValidFalse
)

// String renders the verdict as results.json does.
func (v Valid) String() string {
	switch v {
	case ValidTrue:
		return "true"
	case ValidFalse:
		return "false"
	default:
		return "unknown"
	}
}

// MarshalJSON writes true, false or "unknown", as Jepsen's :valid? does.
func (v Valid) MarshalJSON() ([]byte, error) {
	switch v {
	case ValidTrue:
		return []byte("true"), nil
	case ValidFalse:
		return []byte("false"), nil
	default:
		return []byte(`"unknown"`), nil
	}
}

// UnmarshalJSON reads true, false or "unknown".
func (v *Valid) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*v = ValidTrue
	case "false":
		*v = ValidFalse
	case `"unknown"`:
		*v = ValidUnknown
	default:
		return fmt.Errorf("valid must be true, false or \"unknown\", got %s", b)
	}
	return nil
}

// Merge combines verdicts: false beats unknown beats true.
func Merge(vs ...Valid) Valid {
	out := ValidTrue
	for _, v := range vs {
		if v > out {
			out = v
		}
	}
	return out
}

// ExitCode maps a verdict to the process exit code: 0 valid, 1 invalid,
// 2 unknown.
func (v Valid) ExitCode() int {
	switch v {
	case ValidTrue:
		return 0
	case ValidFalse:
		return 1
	default:
		return 2
	}
}

// Exit codes that are not verdicts.
const (
	ExitBadInput = 254
	ExitHarness  = 255
)

// Result is one checker's verdict with its figures. Details is any
// JSON-encodable value the checker wants in results.json; Summary is a few
// lines a person reads first.
type Result struct {
	Valid   Valid    `json:"valid"`
	Summary []string `json:"summary,omitempty"`
	Details any      `json:"details,omitempty"`
}

// Checker turns a history into a verdict. out is a directory where the
// checker may write artifacts (visualizations); it may be empty, in which
// case the checker writes nothing. Checkers are pure functions of the
// history apart from those artifacts.
type Checker interface {
	Name() string
	Check(ctx context.Context, h History, out string) Result
}

// Results is the verdict of a whole test: every checker's result and their
// merge.
type Results struct {
	Valid    Valid             `json:"valid"`
	Checkers map[string]Result `json:"checkers"`
}

// RawResults is Results as read back from results.json, with details kept raw.
type RawResults struct {
	Valid    Valid `json:"valid"`
	Checkers map[string]struct {
		Valid   Valid           `json:"valid"`
		Summary []string        `json:"summary"`
		Details json.RawMessage `json:"details"`
	} `json:"checkers"`
}

// CheckAll runs every checker and merges their verdicts.
func CheckAll(ctx context.Context, h History, out string, checkers []Checker) Results {
	rs := Results{Checkers: map[string]Result{}}
	for _, c := range checkers {
		r := c.Check(ctx, h, out)
		rs.Checkers[c.Name()] = r
		rs.Valid = Merge(rs.Valid, r.Valid)
	}
	return rs
}
