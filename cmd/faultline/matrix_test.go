package main

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
)

func matrixTestFlags(t *testing.T, args ...string) testFlags {
	t.Helper()
	var f testFlags
	fs := flag.NewFlagSet("cell", flag.ContinueOnError)
	f.register(fs)
	for name, def := range matrixDefaults {
		require.NoError(t, fs.Set(name, def))
	}
	require.NoError(t, fs.Parse(args))
	f.store = t.TempDir()
	return f
}

func TestPlanMatrix(t *testing.T) {
	cells, err := planMatrix(matrixTestFlags(t), "etcd", "3,5,7", "halves,minority-leader,bridge,majorities-ring")
	require.NoError(t, err)
	require.Len(t, cells, 12)
	var names []string
	seed := cells[0].spec.Seed
	for _, c := range cells {
		names = append(names, c.spec.Name)
		assert.Equal(t, seed, c.spec.Seed, "every cell runs with the matrix's seed")
		assert.Equal(t, []string{"partition"}, c.spec.Nemesis)
		assert.Equal(t, 30.0, c.spec.TimeLimit.Seconds())
	}
	assert.Equal(t, "etcd-n3-halves", names[0])
	assert.Equal(t, "etcd-n7-majorities-ring", names[11])
	assert.Contains(t, cells[3].skip, "needs at least 4 nodes", "majorities-ring cannot run on 3 nodes")
	for _, c := range cells[4:] {
		assert.Empty(t, c.skip, c.spec.Name)
	}

	cells, err = planMatrix(matrixTestFlags(t, "-nemesis", "kill", "-kill-targets", "majority"), "etcd", "3,5", "halves,bridge")
	require.NoError(t, err)
	require.Len(t, cells, 2, "without partitions the layouts are not swept")
	assert.Equal(t, "etcd-n5-kill-majority", cells[1].spec.Name)
}

func TestPlanMatrixRejectsBadInput(t *testing.T) {
	cases := map[string][3]string{
		"targets": {"etcd,zookeeper", "3", "halves"},
		"nodes":   {"etcd", "3,10", "halves"},
		"layouts": {"etcd", "3", "halves,sideways"},
	}
	for flagName, c := range cases {
		_, err := planMatrix(matrixTestFlags(t), c[0], c[1], c[2])
		var fe *harness.FlagError
		require.ErrorAs(t, err, &fe, flagName)
		assert.Equal(t, flagName, fe.Flag)
	}
	_, err := planMatrix(matrixTestFlags(t, "-concurrency", "lots"), "etcd", "3", "halves")
	assert.ErrorContains(t, err, "--concurrency")
}

func TestTally(t *testing.T) {
	cells := []results.Cell{{Verdict: "VALID"}, {Verdict: "INVALID"}, {Verdict: "VALID"}, {Verdict: "ERROR"}, {Verdict: "ODD"}}
	assert.Equal(t, "1 ERROR, 1 INVALID, 2 VALID, 1 ODD of 5", tally(cells))
	assert.Equal(t, "2 VALID of 2", tally([]results.Cell{{Verdict: "VALID"}, {Verdict: "VALID"}}))
}
