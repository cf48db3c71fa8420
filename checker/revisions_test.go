package checker

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// revOp adds an op pair to h: invoked at inv ms, completed ok at done ms
// with the revisions given (a read's value is its result).
func revOp(h *harness.History, p int, f, key, value string, inv, done int, rev, mod int64) {
	in := harness.Op{Process: harness.Process(p), Type: harness.Invoke, F: f, Key: key, Time: time.Duration(inv) * time.Millisecond, Node: "n1"}
	out := in
	out.Type, out.Time, out.Revision, out.ModRevision = harness.OK, time.Duration(done)*time.Millisecond, rev, mod
	if f == "read" {
		out.Value = json.RawMessage(value)
	} else {
		in.Value, out.Value = json.RawMessage(value), json.RawMessage(value)
	}
	*h = append(*h, in, out)
}

func checkRevisions(t *testing.T, h harness.History, serializable bool) (harness.Result, *RevisionsDetails) {
	t.Helper()
	h.SortByIndex()
	sorted := append(harness.History(nil), h...)
	// time order, then number
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			if sorted[j].Time < sorted[i].Time {
				sorted[i], sorted[j] = sorted[j], sorted[i]
			}
		}
	}
	for i := range sorted {
		sorted[i].Index = i
	}
	require.NoError(t, sorted.Validate())
	r := Revisions{Writes: []string{"write", "cas"}, Serializable: serializable}.Check(context.Background(), sorted, "")
	return r, r.Details.(*RevisionsDetails)
}

func TestRevisionsAcceptsAnHonestRegister(t *testing.T) {
	var h harness.History
	revOp(&h, 0, "write", "r1", "3", 0, 10, 5, 5)
	revOp(&h, 1, "read", "r1", "3", 20, 30, 5, 5)
	revOp(&h, 0, "cas", "r1", "[3,4]", 40, 50, 6, 6)
	revOp(&h, 1, "read", "r1", "4", 60, 70, 7, 6)
	r, d := checkRevisions(t, h, false)
	assert.Equal(t, harness.ValidTrue, r.Valid, "%v", r.Summary)
	assert.Equal(t, int64(7), d.MaxRevision)
}

// TestRevisionsCatchWhatALostWriteShows: the symptoms of etcd #14370 (a
// single member that lost an acknowledged write): a later op sees a lower
// revision, and the revision is given to another write.
func TestRevisionsCatchWhatALostWriteShows(t *testing.T) {
	var h harness.History
	revOp(&h, 0, "write", "r1", "3", 0, 10, 168, 168)
	revOp(&h, 1, "read", "r2", "null", 20, 30, 167, 0)
	revOp(&h, 2, "write", "r2", "1", 40, 50, 168, 168)
	r, d := checkRevisions(t, h, false)
	require.Equal(t, harness.ValidFalse, r.Valid)
	rules := map[string]int{}
	for _, v := range d.Violations {
		rules[v.Rule]++
	}
	assert.Equal(t, 1, rules["monotonic"], "%v", r.Summary)
	assert.Equal(t, 1, rules["unique"], "%v", r.Summary)

	_, d = checkRevisions(t, h[:4], true)
	assert.Zero(t, d.Count, "a serializable read may be stale")
}

// TestRevisionsCatchAReadOfAnotherRevision: the symptom of etcd #14685 on
// three members: a read returns the value of a write at a revision that
// write was not acknowledged at.
func TestRevisionsCatchAReadOfAnotherRevision(t *testing.T) {
	var h harness.History
	revOp(&h, 0, "write", "r1", "3", 0, 10, 8662, 8662)
	revOp(&h, 1, "read", "r1", "3", 20, 30, 8670, 8669)
	r, d := checkRevisions(t, h, false)
	require.Equal(t, harness.ValidFalse, r.Valid)
	assert.Equal(t, "read-own-write", d.Violations[0].Rule)
	assert.Contains(t, d.Violations[0].Message, "mod revision 8669")

	r, _ = checkRevisions(t, nil, false)
	assert.Equal(t, harness.ValidUnknown, r.Valid, "no revision recorded, nothing checked")
}
