package results

import (
	"encoding/xml"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// JUnitFile is the name of the JUnit report inside a run directory.
const JUnitFile = "junit.xml"

// JUnitSuites is a JUnit XML report, the <testsuites> root that CI systems
// (Jenkins, GitLab, GitHub test reporters) read. Its totals are filled in
// by WriteJUnit.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr,omitempty"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr,omitempty"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one <testsuite>: a run, or a matrix. Add cases with Add so
// that its counts stay right.
type JUnitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr,omitempty"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []JUnitProperty `xml:"properties>property,omitempty"`
	Cases      []JUnitCase     `xml:"testcase"`
}

// JUnitProperty is one <property> of a suite: a flag of the test.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one <testcase>: a checker of a run, or a cell of a matrix.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr,omitempty"`
	Failure   *JUnitProblem `xml:"failure,omitempty"`
	Error     *JUnitProblem `xml:"error,omitempty"`
}

// JUnitProblem is the <failure> or <error> of a case: a one-line message
// and the full reason as text.
type JUnitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// NewJUnitCase turns a verdict into a test case. An invalid verdict is a
// <failure>; an unknown one is an <error>, because the test could not
// decide, which a CI system must not count as a pass; a valid one is a
// pass. reason is the lines that explain the verdict (a checker's summary,
// a matrix cell's figures); its first line is the message. took may be
// zero when unknown.
func NewJUnitCase(classname, name string, v harness.Valid, reason []string, took time.Duration) JUnitCase {
	c := JUnitCase{Name: name, Classname: classname}
	if took > 0 {
		c.Time = seconds(took)
	}
	if v == harness.ValidTrue {
		return c
	}
	message := Verdict(v)
	if len(reason) > 0 {
		message = strings.TrimSpace(reason[0])
	}
	problem := &JUnitProblem{Message: message, Type: Verdict(v), Text: strings.Join(reason, "\n")}
	if v == harness.ValidFalse {
		c.Failure = problem
	} else {
		c.Error = problem
	}
	return c
}

// Add appends a case and counts it.
func (s *JUnitSuite) Add(c JUnitCase) {
	s.Cases = append(s.Cases, c)
	s.Tests++
	if c.Failure != nil {
		s.Failures++
	}
	if c.Error != nil {
		s.Errors++
	}
}

// RunJUnit is the suite of one run: one case per checker, in name order,
// each failing with the checker's summary lines as its reason. The test's
// flags are the suite's properties.
func RunJUnit(spec harness.Spec, rs harness.Results, started time.Time, took time.Duration) JUnitSuite {
	s := JUnitSuite{Name: spec.Name}
	if !started.IsZero() {
		s.Timestamp = started.UTC().Format("2006-01-02T15:04:05")
	}
	if took > 0 {
		s.Time = seconds(took)
	}
	for _, p := range [][2]string{
		{"target", spec.Target}, {"nodes", strconv.Itoa(spec.Nodes)}, {"workload", spec.Workload},
		{"nemesis", strings.Join(spec.Nemesis, ",")}, {"partition", spec.Partition},
		{"time-limit", spec.TimeLimit.String()}, {"seed", strconv.FormatInt(spec.Seed, 10)},
		{"serializable", strconv.FormatBool(spec.Serializable)},
	} {
		s.Properties = append(s.Properties, JUnitProperty{Name: p[0], Value: p[1]})
	}
	names := make([]string, 0, len(rs.Checkers))
	for name := range rs.Checkers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r := rs.Checkers[name]
		s.Add(NewJUnitCase(spec.Name, name, r.Valid, r.Summary, 0))
	}
	return s
}

// WriteJUnit writes suites as a JUnit XML report to path, with the totals
// of every suite on the root.
func WriteJUnit(path string, suites ...JUnitSuite) error {
	root := JUnitSuites{Name: "faultline", Suites: suites}
	var total float64
	timed := false
	for _, s := range suites {
		root.Tests += s.Tests
		root.Failures += s.Failures
		root.Errors += s.Errors
		if t, err := strconv.ParseFloat(s.Time, 64); err == nil {
			total, timed = total+t, true
		}
	}
	if timed {
		root.Time = strconv.FormatFloat(total, 'f', 3, 64)
	}
	b, err := xml.MarshalIndent(root, "", "  ")
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	out := append([]byte(xml.Header), append(b, '\n')...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	return nil
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
