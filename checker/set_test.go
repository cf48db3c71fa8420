package checker_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/checker/fixture"
	"github.com/faultline/faultline/harness"
)

// TestSetFixtures runs the set checker over testdata/set: accept-* must
// be valid, reject-* invalid with the anomaly named in the summary.
func TestSetFixtures(t *testing.T) {
	fixture.Run(t, "testdata/set/*.txt", checker.Set{})
}

// TestSetDetails checks the figures behind the summary of a lost element
// and the custom op names the lock workload uses.
func TestSetDetails(t *testing.T) {
	h, err := fixture.ParseHistory(`
0 0 invoke add n1 5
1 0 ok add n1 5
2 1 invoke add n1 6
3 1 info add n1 6
4 2 invoke read n1
5 2 ok read n1 [6]
`)
	require.NoError(t, err)
	res := checker.Set{Title: "guarded-set", ReadF: "read"}.Check(context.Background(), h, "")
	require.Equal(t, harness.ValidFalse, res.Valid)
	d := res.Details.(*checker.SetDetails)
	require.Equal(t, 1, d.Lost.Count)
	require.Equal(t, []checker.SetExample{{Element: 5, Op: 0}}, d.Lost.Examples)
	require.Equal(t, 1, d.Recovered.Count)
	require.Equal(t, 1, d.Present)
	require.Equal(t, 1, d.Adds.OK)
	require.Equal(t, 1, d.Adds.Info)
	require.Contains(t, res.Summary[0], "guarded-set: 2 adds")
}

// TestSetMalformedValue: an add whose value is not an element makes the
// verdict unknown, not a crash or a false alarm.
func TestSetMalformedValue(t *testing.T) {
	h, err := fixture.ParseHistory(`
0 0 invoke add n1 "x"
1 0 ok add n1 "x"
`)
	require.NoError(t, err)
	res := checker.Set{}.Check(context.Background(), h, "")
	require.Equal(t, harness.ValidUnknown, res.Valid)
	require.Contains(t, res.Summary[0], "malformed")
}
