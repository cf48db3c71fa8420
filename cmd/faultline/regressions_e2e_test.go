package main

// End-to-end test of the track record: one real etcd bug, caught on the
// release that had it and silent on the one that fixed it, through
// `faultline scenario run`. `make regressions` runs every one of them ten
// times on both releases; this keeps one in every `make test`.

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
	store := t.TempDir()
	affected := runFaultline(t, 10*time.Minute, "scenario", "run", "etcd-20221-future-watch-bookmark", "--test-count", "1", "--seed", "5", "--store", store)
	require.Equal(t, 0, affected.code, "the bug must be caught on v3.5.21:\n%s\n%s", affected.stdout, affected.stderr)
	assert.Contains(t, affected.stdout, "on etcd v3.5.21 (etcd-io/etcd#20221, expect INVALID)")
	assert.Contains(t, affected.stdout, "expectation met in 1 of 1 runs")
	assert.Contains(t, affected.stdout, "Bookmarkable: false")
	assert.Contains(t, affected.stdout, "progress-before-start")

	fixed := runFaultline(t, 10*time.Minute, "scenario", "run", "etcd-20221-future-watch-bookmark", "--release", "fixed", "--test-count", "1", "--seed", "5", "--store", store)
	require.Equal(t, 0, fixed.code, "v3.5.22 must be valid:\n%s\n%s", fixed.stdout, fixed.stderr)
	assert.Contains(t, fixed.stdout, "on etcd v3.5.22 (etcd-io/etcd#20221, expect VALID)")
	assert.Contains(t, fixed.stdout, "expectation met in 1 of 1 runs")
}
