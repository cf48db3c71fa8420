package faultline

import (
	"testing"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
)

// RequireValid fails t, with the run's summary, unless the run finished
// (err is nil, it was not interrupted) and every checker accepted its
// history. It is for a user's own `go test` of a store:
//
//	res, err := faultline.Run(ctx, spec, opts)
//	faultline.RequireValid(t, res, err)
func RequireValid(t testing.TB, res Result, err error) {
	t.Helper()
	RequireVerdict(t, res, err, harness.ValidTrue)
}

// RequireVerdict fails t, with the run's summary, unless the run finished
// with verdict want: a test that a store with a known bug is caught wants
// harness.ValidFalse.
func RequireVerdict(t testing.TB, res Result, err error, want harness.Valid) {
	t.Helper()
	switch {
	case err != nil:
		t.Fatalf("faultline: the run did not finish: %v\n%s", err, res.Summary)
	case res.Interrupted:
		t.Fatalf("faultline: the run was interrupted\n%s", res.Summary)
	case res.Valid() != want:
		t.Fatalf("faultline: verdict %s, want %s; the run is stored in %s\n%s", results.Verdict(res.Valid()), results.Verdict(want), res.Dir, res.Summary)
	}
}
