package checker

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// history numbers ops in the order given.
func history(ops ...harness.Op) harness.History {
	for i := range ops {
		ops[i].Index = i
	}
	return ops
}

func op(p harness.Process, t harness.Type, f string) harness.Op {
	return harness.Op{Process: p, Type: t, F: f}
}

func TestStats(t *testing.T) {
	for _, tc := range []struct {
		name    string
		h       harness.History
		valid   harness.Valid
		all     Counts
		byF     map[string]Counts
		neverOK []string
		summary []string
	}{
		{
			name:    "empty history is valid",
			valid:   harness.ValidTrue,
			byF:     map[string]Counts{},
			summary: []string{"stats: 0 client ops: 0 ok, 0 fail, 0 info"},
		},
		{
			name: "every f succeeded at least once",
			h: history(
				op(0, harness.Invoke, "read"), op(1, harness.Invoke, "write"),
				op(0, harness.OK, "read"), op(1, harness.Info, "write"),
				op(0, harness.Invoke, "read"), op(0, harness.Fail, "read"),
				op(2, harness.Invoke, "write"), op(2, harness.OK, "write"),
				op(3, harness.Invoke, "cas"), op(3, harness.OK, "cas"),
			),
			valid: harness.ValidTrue,
			all:   Counts{OK: 3, Fail: 1, Info: 1},
			byF: map[string]Counts{
				"read":  {OK: 1, Fail: 1},
				"write": {OK: 1, Info: 1},
				"cas":   {OK: 1},
			},
			summary: []string{
				"stats: 5 client ops: 3 ok, 1 fail, 1 info (60.0% ok)",
				"  cas: 1 ok, 0 fail, 0 info (100.0% ok)",
				"  read: 1 ok, 1 fail, 0 info (50.0% ok)",
				"  write: 1 ok, 0 fail, 1 info (50.0% ok)",
			},
		},
		{
			name: "an f that never succeeded is invalid, and named",
			h: history(
				op(0, harness.Invoke, "read"), op(0, harness.OK, "read"),
				op(1, harness.Invoke, "cas"), op(1, harness.Fail, "cas"),
				op(1, harness.Invoke, "cas"), op(1, harness.Info, "cas"),
				op(5, harness.Invoke, "write"),
			),
			valid:   harness.ValidFalse,
			all:     Counts{OK: 1, Fail: 1, Info: 1, Unfinished: 1},
			byF:     map[string]Counts{"read": {OK: 1}, "cas": {Fail: 1, Info: 1}, "write": {Unfinished: 1}},
			neverOK: []string{"cas", "write"},
			summary: []string{
				"stats: 4 client ops: 1 ok, 1 fail, 1 info, 1 unfinished (25.0% ok)",
				"  cas: 0 ok, 1 fail, 1 info (0.0% ok)",
				"  read: 1 ok, 0 fail, 0 info (100.0% ok)",
				"  write: 0 ok, 0 fail, 0 info, 1 unfinished (0.0% ok)",
				"  invalid: cas, write never succeeded (Jepsen's rule: every f must complete ok at least once)",
			},
		},
		{
			name: "nemesis ops are not counted, even failed ones",
			h: history(
				op(harness.NemesisProcess, harness.Invoke, "start-partition"),
				op(0, harness.Invoke, "read"),
				op(harness.NemesisProcess, harness.Info, "start-partition"),
				op(0, harness.OK, "read"),
			),
			valid:   harness.ValidTrue,
			all:     Counts{OK: 1},
			byF:     map[string]Counts{"read": {OK: 1}},
			summary: []string{"stats: 1 client ops: 1 ok, 0 fail, 0 info (100.0% ok)", "  read: 1 ok, 0 fail, 0 info (100.0% ok)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Stats{}.Check(context.Background(), tc.h, "")
			require.Equal(t, tc.valid, res.Valid)
			d := res.Details.(*StatsDetails)
			require.Equal(t, tc.all, d.All)
			require.Equal(t, tc.byF, d.ByF)
			require.Equal(t, tc.neverOK, d.NeverOK)
			require.Equal(t, tc.summary, res.Summary)
		})
	}
}

// TestStatsJSON: the details read as results.json promises.
func TestStatsJSON(t *testing.T) {
	h := history(op(0, harness.Invoke, "read"), op(0, harness.OK, "read"))
	res := Stats{}.Check(context.Background(), h, "")
	b, err := json.Marshal(res)
	require.NoError(t, err)
	require.JSONEq(t, `{
		"valid": true,
		"summary": ["stats: 1 client ops: 1 ok, 0 fail, 0 info (100.0% ok)", "  read: 1 ok, 0 fail, 0 info (100.0% ok)"],
		"details": {"all": {"ok": 1, "fail": 0, "info": 0, "unfinished": 0}, "by_f": {"read": {"ok": 1, "fail": 0, "info": 0, "unfinished": 0}}}
	}`, string(b))
	require.Equal(t, "stats", Stats{}.Name())
	var _ harness.Checker = Stats{}
}
