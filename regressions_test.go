package faultline

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// TestEveryBugScenarioIsPinned: a scenario of a real bug names its issue,
// two different releases whose build modules are kept in the repository,
// the checkers that must catch it, and no release of its own; on either
// release it validates.
func TestEveryBugScenarioIsPinned(t *testing.T) {
	require.GreaterOrEqual(t, len(Regressions()), 2)
	for _, sc := range Regressions() {
		b := sc.Bug
		assert.Regexp(t, regexp.MustCompile(`^[\w.-]+/[\w.-]+#\d+$`), b.Issue, sc.Name)
		assert.NotEmpty(t, b.Title, sc.Name)
		assert.NotEqual(t, b.Affected, b.Fixed, sc.Name)
		assert.Empty(t, sc.Spec.TargetVersion, "%s: the release comes from its bug", sc.Name)
		assert.NotEmpty(t, sc.Caught, sc.Name)
		for _, release := range []string{b.Affected, b.Fixed} {
			_, err := os.Stat(filepath.Join("targets", "etcd", "release", "modules", release, "go.sum"))
			assert.NoError(t, err, "%s: the build module of %s is kept, so that CI resolves nothing new", sc.Name, release)
		}
		affected, err := sc.On("affected")
		require.NoError(t, err)
		assert.Equal(t, b.Affected, affected.Spec.TargetVersion)
		assert.Equal(t, harness.ValidFalse, affected.Expect)
		_, err = Validate(affected.Spec)
		assert.NoError(t, err, sc.Name)
		fixed, err := sc.On(b.Fixed)
		require.NoError(t, err)
		assert.Equal(t, b.Fixed, fixed.Spec.TargetVersion)
		assert.Equal(t, harness.ValidTrue, fixed.Expect)
		assert.Empty(t, fixed.Caught)
		_, err = sc.On("v3.4.0")
		assert.ErrorContains(t, err, "want affected")
	}
	plain, _ := LookupScenario("kvnode-correct")
	_, err := plain.On("fixed")
	assert.ErrorContains(t, err, "reproduces no bug")
}

// TestARegressionRowCountsWhatCaughtIt: the affected release's row is met
// with 80% of its runs invalid through the scenario's checkers, not with
// runs invalid through another; the fixed release's row only when every
// run is valid.
func TestARegressionRowCountsWhatCaughtIt(t *testing.T) {
	sc := Regressions()[0]
	affected, _ := sc.On("affected")
	caught := Result{Dir: "d", Results: harness.Results{Valid: harness.ValidFalse, Checkers: map[string]harness.Result{}}}
	other := Result{Dir: "d", Results: harness.Results{Valid: harness.ValidFalse, Checkers: map[string]harness.Result{"logs": {Valid: harness.ValidFalse}}}}
	for _, name := range affected.Caught {
		caught.Results.Checkers[name] = harness.Result{Valid: harness.ValidFalse, Summary: []string{name + ": the revision went back"}}
	}
	row := NewRegressionRow(affected)
	for range 4 {
		row.Add(affected, caught, nil)
	}
	row.Add(affected, other, nil)
	assert.True(t, row.Met(), "4 of 5 caught is 80%%")
	assert.Equal(t, 5, row.Invalid)
	assert.Equal(t, 4, row.Caught)
	assert.Contains(t, row.First, "the revision went back")
	row.Add(affected, other, nil)
	assert.False(t, row.Met(), "4 of 6 is not")
	interrupted := caught
	interrupted.Interrupted = true
	row.Add(affected, interrupted, nil)
	assert.Equal(t, 6, row.Runs, "an interrupted run is not counted")

	fixed, _ := sc.On("fixed")
	row = NewRegressionRow(fixed)
	valid := Result{Dir: "d", Results: harness.Results{Valid: harness.ValidTrue, Checkers: map[string]harness.Result{"logs": {Valid: harness.ValidTrue}}}}
	for range 3 {
		row.Add(fixed, valid, nil)
	}
	assert.True(t, row.Met())
	row.Add(fixed, Result{}, assert.AnError)
	assert.False(t, row.Met(), "a run that errs is no valid run")
	assert.Equal(t, 1, row.Errors)
	md := RegressionMarkdown([]RegressionRow{row})
	assert.Contains(t, md, "| "+sc.Name+" | "+sc.Bug.Issue+" | "+sc.Bug.Fixed+" | VALID | 4 | 0 | 0 | **no** |")
}
