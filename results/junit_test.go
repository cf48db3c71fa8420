package results

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// TestRunJUnitHasTheUsualShape: testsuites > testsuite > testcase, one
// case per checker, a failure carrying the checker's summary, an error for
// an unknown verdict, and totals that add up.
func TestRunJUnitHasTheUsualShape(t *testing.T) {
	spec := harness.Spec{Name: "etcd-register", Target: "etcd", Nodes: 5, Workload: "register", Nemesis: []string{"partition"}, Seed: 42}
	rs := harness.Results{Valid: harness.ValidFalse, Checkers: map[string]harness.Result{
		"linearizable": {Valid: harness.ValidFalse, Summary: []string{"linearizable: 3 keys, 1 not linearizable (r7)", "  r7: after 4 linearized ops, no op can go next"}},
		"stats":        {Valid: harness.ValidTrue, Summary: []string{"ok 10"}},
		"availability": {Valid: harness.ValidUnknown, Summary: []string{"no partition to judge"}},
	}}
	path := filepath.Join(t.TempDir(), JUnitFile)
	require.NoError(t, WriteJUnit(path, RunJUnit(spec, rs, time.Date(2026, 11, 25, 17, 3, 28, 0, time.UTC), 90*time.Second)))
	b, err := os.ReadFile(path)
	require.NoError(t, err)

	// Read it back with a schema of our own, not the writer's types.
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Suites   []struct {
			Name       string `xml:"name,attr"`
			Tests      int    `xml:"tests,attr"`
			Timestamp  string `xml:"timestamp,attr"`
			Properties []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Type string `xml:"type,attr"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b, &doc))
	assert.Equal(t, 3, doc.Tests)
	assert.Equal(t, 1, doc.Failures)
	assert.Equal(t, 1, doc.Errors)
	require.Len(t, doc.Suites, 1)
	s := doc.Suites[0]
	assert.Equal(t, "etcd-register", s.Name)
	assert.Equal(t, "2026-11-25T17:03:28", s.Timestamp)
	assert.Contains(t, s.Properties, struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}{"seed", "42"})
	require.Len(t, s.Cases, 3)
	assert.Equal(t, []string{"availability", "linearizable", "stats"}, []string{s.Cases[0].Name, s.Cases[1].Name, s.Cases[2].Name})
	assert.NotNil(t, s.Cases[0].Error, "unknown is an error, not a pass")
	require.NotNil(t, s.Cases[1].Failure)
	assert.Equal(t, "linearizable: 3 keys, 1 not linearizable (r7)", s.Cases[1].Failure.Message)
	assert.Contains(t, s.Cases[1].Failure.Text, "no op can go next")
	assert.Nil(t, s.Cases[2].Failure)
	assert.Nil(t, s.Cases[2].Error)
	assert.Equal(t, "etcd-register", s.Cases[2].Classname)
}

// TestJUnitMatrixCells: the helper the matrix uses gives one case per
// cell and counts them.
func TestJUnitMatrixCells(t *testing.T) {
	suite := JUnitSuite{Name: "matrix"}
	suite.Add(NewJUnitCase("matrix", "etcd n3 halves", harness.ValidTrue, nil, 31*time.Second))
	suite.Add(NewJUnitCase("matrix", "etcd n5 one", harness.ValidFalse, []string{"1 ok read on the minority"}, 0))
	assert.Equal(t, 2, suite.Tests)
	assert.Equal(t, 1, suite.Failures)
	assert.Equal(t, "31.000", suite.Cases[0].Time)
	assert.Equal(t, "1 ok read on the minority", suite.Cases[1].Failure.Message)
	assert.Equal(t, "INVALID", suite.Cases[1].Failure.Type)

	err := WriteJUnit(filepath.Join(t.TempDir(), "missing", JUnitFile), suite)
	assert.ErrorContains(t, err, "junit")
}
