package edn

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/checker/linearizable"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/register"
)

// TestHandWrittenHistoriesGetTheRightVerdicts: Jepsen histories written
// by hand, imported and checked against the cas-register model, with
// :info ops that did and did not take effect, failed cas ops, an op left
// open, nemesis ops, and independent keys.
func TestHandWrittenHistoriesGetTheRightVerdicts(t *testing.T) {
	checker, err := linearizable.New(register.Model(), linearizable.Options{Timeout: 30 * time.Second})
	require.NoError(t, err)
	for _, c := range []struct {
		file    string
		want    harness.Valid
		keys    int
		badKeys []string
	}{
		{"register-valid.edn", harness.ValidTrue, 1, nil},
		{"register-invalid.edn", harness.ValidFalse, 1, []string{""}},
		{"independent.edn", harness.ValidFalse, 3, []string{"b"}},
	} {
		h, err := ReadHistoryFile("testdata/"+c.file, CASRegister)
		require.NoError(t, err, c.file)
		require.NoError(t, h.Validate(), c.file)
		r := checker.Check(context.Background(), h, "")
		assert.Equal(t, c.want, r.Valid, "%s: %v", c.file, r.Summary)
		d := r.Details.(*linearizable.Details)
		assert.Equal(t, c.keys, d.Keys, c.file)
		assert.Equal(t, c.badKeys, d.Bad, c.file)
	}
}

// TestVerdictsHingeOnTheInfoOps: the valid history stays valid only
// because its :info write may have happened; made :fail, the same write
// cannot explain the read that saw it.
func TestVerdictsHingeOnTheInfoOps(t *testing.T) {
	checker, err := linearizable.New(register.Model(), linearizable.Options{Timeout: 30 * time.Second})
	require.NoError(t, err)
	h, err := ReadHistoryFile("testdata/register-valid.edn", CASRegister)
	require.NoError(t, err)
	flipped := 0
	for i, op := range h {
		if op.F == "write" && op.Type == harness.Info && string(op.Value) == "4" {
			h[i].Type = harness.Fail
			flipped++
		}
	}
	require.Equal(t, 1, flipped)
	assert.Equal(t, harness.ValidFalse, checker.Check(context.Background(), h, "").Valid)
}
