package main

// End-to-end tests of the track record: real etcd bugs, caught on the
// release that had them and silent on the one that fixed them, through
// `faultline scenario run`. `make regressions` runs every one of them ten
// times on both releases; these keep two in every `make test`.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestARealEtcdBugIsCaughtAndItsFixPasses: etcd#20221 on v3.5.21 (a
// progress notification below a future watch's start) must be caught by
// the watch checker's Bookmarkable, and v3.5.22 must be valid.
func TestARealEtcdBugIsCaughtAndItsFixPasses(t *testing.T) {
	caughtAndFixed(t, "etcd-20221-future-watch-bookmark", "etcd-io/etcd#20221", "v3.5.21", "v3.5.22", "Bookmarkable: false", "progress-before-start")
}

// TestACompactionOnADeleteCatchesEtcd18089: with the watch workload's
// compactions landing on deletes, v3.5.15 must lose the delete at the
// compacted revision from a watch resumed there (Resumable missed-start),
// and v3.5.16, which keeps that tombstone, must be valid.
func TestACompactionOnADeleteCatchesEtcd18089(t *testing.T) {
	caughtAndFixed(t, "etcd-18089-compaction-on-delete", "etcd-io/etcd#18089", "v3.5.15", "v3.5.16", "Resumable: false", "missed-start")
}

// caughtAndFixed runs scenario once on its affected release, where the
// output must say it met its expectation (invalid) and hold every one of
// found, and once on its fixed release, where it must be valid.
func caughtAndFixed(t *testing.T, scenario, issue, affectedRelease, fixedRelease string, found ...string) {
	t.Helper()
	store := t.TempDir()
	affected := runFaultline(t, 10*time.Minute, "scenario", "run", scenario, "--test-count", "1", "--seed", "5", "--store", store)
	require.Equal(t, 0, affected.code, "the bug must be caught on %s:\n%s\n%s", affectedRelease, affected.stdout, affected.stderr)
	assert.Contains(t, affected.stdout, "on etcd "+affectedRelease+" ("+issue+", expect INVALID)")
	assert.Contains(t, affected.stdout, "expectation met in 1 of 1 runs")
	for _, f := range found {
		assert.Contains(t, affected.stdout, f)
	}

	fixed := runFaultline(t, 10*time.Minute, "scenario", "run", scenario, "--release", "fixed", "--test-count", "1", "--seed", "5", "--store", store)
	require.Equal(t, 0, fixed.code, "%s must be valid:\n%s\n%s", fixedRelease, fixed.stdout, fixed.stderr)
	assert.Contains(t, fixed.stdout, "on etcd "+fixedRelease+" ("+issue+", expect VALID)")
	assert.Contains(t, fixed.stdout, "expectation met in 1 of 1 runs")
}
