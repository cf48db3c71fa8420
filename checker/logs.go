package checker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// DefaultLogPatterns are the lines that show a store process failing,
// whatever the store: a Go panic, a fatal runtime error, a structured log
// at level panic or fatal, a data race report.
var DefaultLogPatterns = []string{
	`^panic: `,
	`^fatal error: `,
	`"level":"(panic|dpanic|fatal)"`,
	`WARNING: DATA RACE`,
}

// maxLogHits bounds the hits listed in results.json; all are counted.
const maxLogHits = 20

// Logs is the log checker: it reads every node's DB log, as the run copied
// it into <Dir>/nodes/<node>/, for lines that show the store failing (a
// panic, a fatal error, a data race, or a pattern the target knows). Each
// hit makes the run invalid, as Jepsen's etcd suite fails a run on a panic
// in etcd.log, and is named with its node, its time in the test, its line
// and the log it is in.
type Logs struct {
	// Dir is the run directory. A run without node logs (a bare history)
	// gets no Logs checker.
	Dir string
	// Patterns are regular expressions of failing lines; nil means
	// DefaultLogPatterns.
	Patterns []string
	// Expected are regular expressions of failing lines the test caused
	// on purpose (a failpoint armed to panic): they are counted, not held
	// against the store.
	Expected []string
	// Started is the wall-clock time the history's clock started, to place
	// a timestamped line in test time; zero leaves hits without a time.
	Started time.Time
}

// LogHit is one failing line.
type LogHit struct {
	// Node is the node whose log it is in; File the log, relative to the
	// run directory; Line its line number.
	Node string `json:"node"`
	File string `json:"file"`
	Line int    `json:"line"`
	// TimeS is the line's time in test time, when it has a timestamp (a
	// panic's lines take the time of the last timestamped line above).
	TimeS *float64 `json:"time_s,omitempty"`
	// Text is the line, cut to 300 characters.
	Text string `json:"text"`
	// Expected says the test caused it on purpose.
	Expected bool `json:"expected,omitempty"`
}

// LogsDetails is what Logs reports in results.json.
type LogsDetails struct {
	// Files counts the logs read.
	Files int `json:"files"`
	// Hits are the first failing lines; Count counts them all; Expected
	// counts those the test caused on purpose.
	Hits     []LogHit `json:"hits"`
	Count    int      `json:"count"`
	Expected int      `json:"expected"`
	// Errors are logs that could not be read.
	Errors []string `json:"errors,omitempty"`
}

// Name is "logs".
func (Logs) Name() string { return "logs" }

// Check reads the node logs under Dir. The history is used for nothing but
// its verdict is the logs': a store that panicked is invalid whatever its
// clients saw. With no log at all the verdict is unknown, never valid.
//
// The panics of failpoints the nemesis armed (their start-failpoint
// completions say which) are expected, with l.Expected, and so is what a
// node's store logged while it refused files the nemesis damaged (a
// completion's "refused" says which node, and its op when).
func (l Logs) Check(_ context.Context, h harness.History, _ string) harness.Result {
	d := &LogsDetails{Hits: []LogHit{}}
	patterns, err := compileAll(l.Patterns, DefaultLogPatterns)
	if err != nil {
		return harness.Result{Valid: harness.ValidUnknown, Summary: []string{"logs: unknown, " + err.Error()}, Details: d}
	}
	expected, err := compileAll(append(slices.Clone(l.Expected), armedFailpoints(h)...), nil)
	if err != nil {
		return harness.Result{Valid: harness.ValidUnknown, Summary: []string{"logs: unknown, " + err.Error()}, Details: d}
	}
	excused := refusals(h)
	root := filepath.Join(l.Dir, "nodes")
	var files []string
	werr := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	if werr != nil && !os.IsNotExist(werr) {
		d.Errors = append(d.Errors, werr.Error())
	}
	slices.Sort(files)
	for _, path := range files {
		d.Files++
		if err := l.scan(path, patterns, expected, excused, d); err != nil {
			d.Errors = append(d.Errors, err.Error())
		}
	}
	valid := harness.ValidTrue
	switch {
	case d.Count-d.Expected > 0:
		valid = harness.ValidFalse
	case d.Files == 0 || len(d.Errors) > 0:
		valid = harness.ValidUnknown
	}
	return harness.Result{Valid: valid, Summary: l.summary(d), Details: d}
}

// scan reads one log for failing lines.
func (l Logs) scan(path string, patterns, expected []*regexp.Regexp, excused []refusal, d *LogsDetails) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read log: %w", err)
	}
	defer f.Close()
	rel, _ := filepath.Rel(l.Dir, path)
	node := filepath.Base(filepath.Dir(path))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	var last *float64
	// A block is a line the store logged with a time and every line up to
	// the next one: what a process prints as it dies (the panic of each
	// goroutine that panicked, in any order) is one block, so a block that
	// holds a panic the test caused is all the test's doing.
	var block []LogHit
	flush := func() {
		death := slices.ContainsFunc(block, func(h LogHit) bool { return h.Expected })
		for _, h := range block {
			h.Expected = h.Expected || death
			d.Count++
			if h.Expected {
				d.Expected++
			}
			if len(d.Hits) < maxLogHits {
				d.Hits = append(d.Hits, h)
			}
		}
		block = block[:0]
	}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if t, ok := l.timeOf(line); ok {
			flush()
			last = &t
		}
		if !slices.ContainsFunc(patterns, func(p *regexp.Regexp) bool { return p.MatchString(line) }) {
			continue
		}
		hit := LogHit{Node: node, File: filepath.ToSlash(rel), Line: n, TimeS: last, Text: harness.Shorten(line, 300)}
		hit.Expected = slices.ContainsFunc(expected, func(p *regexp.Regexp) bool { return p.MatchString(line) }) ||
			slices.ContainsFunc(excused, func(r refusal) bool { return r.covers(node, last) })
		block = append(block, hit)
	}
	flush()
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", rel, err)
	}
	return nil
}

// timeOf reads the timestamp of a structured log line ("ts" in zap's
// JSON, RFC 3339) and returns it in test seconds.
func (l Logs) timeOf(line string) (float64, bool) {
	if l.Started.IsZero() || !strings.HasPrefix(line, "{") {
		return 0, false
	}
	var v struct {
		TS string `json:"ts"`
	}
	if json.Unmarshal([]byte(line), &v) != nil || v.TS == "" {
		return 0, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700"} {
		if t, err := time.Parse(layout, v.TS); err == nil {
			return float64(t.Sub(l.Started).Round(time.Millisecond).Milliseconds()) / 1000, true
		}
	}
	return 0, false
}

func (l Logs) summary(d *LogsDetails) []string {
	head := fmt.Sprintf("logs: %d node logs read, %d failing lines", d.Files, d.Count-d.Expected)
	if d.Expected > 0 {
		head += fmt.Sprintf(" (and %d the test caused on purpose)", d.Expected)
	}
	lines := []string{head}
	for _, h := range d.Hits {
		at := ""
		if h.TimeS != nil {
			at = fmt.Sprintf(" at %.2fs", *h.TimeS)
		}
		tag := ""
		if h.Expected {
			tag = " (expected)"
		}
		lines = append(lines, fmt.Sprintf("  %s%s%s, %s:%d: %s", h.Node, at, tag, h.File, h.Line, harness.Shorten(h.Text, 200)))
	}
	if n := d.Count - len(d.Hits); n > 0 {
		lines = append(lines, fmt.Sprintf("  ... and %d more", n))
	}
	if d.Files == 0 {
		lines = append(lines, "  unknown: no node log was copied into the run")
	}
	for _, e := range d.Errors {
		lines = append(lines, "  unknown: "+e)
	}
	return lines
}

func compileAll(patterns, def []string) ([]*regexp.Regexp, error) {
	if patterns == nil {
		patterns = def
	}
	out := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("log pattern %q: %w", p, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// armedFailpoints are the patterns of the panics of the failpoints the
// history's start-failpoint ops armed.
func armedFailpoints(h harness.History) []string {
	var out []string
	for _, op := range h {
		if op.IsClient() || op.F != "start-failpoint" || op.Type == harness.Invoke || len(op.Value) == 0 {
			continue
		}
		var v struct {
			Armed map[string]struct {
				Name string `json:"name"`
			} `json:"armed"`
		}
		if json.Unmarshal(op.Value, &v) != nil {
			continue
		}
		for _, a := range v.Armed {
			p := `failpoint panic: ` + regexp.QuoteMeta(a.Name) + `\b`
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// refusal is a span of a node's log that the test caused: the store
// refused to start on files the nemesis damaged.
type refusal struct {
	node     string
	from, to float64
}

// refusalSlack widens a refusal's span for the clocks of the log and the
// history, which are the same host's but read at different moments.
const refusalSlack = 0.5

// covers says the line at time at of node's log lies in r.
func (r refusal) covers(node string, at *float64) bool {
	return at != nil && node == r.node && *at >= r.from-refusalSlack && *at <= r.to+refusalSlack
}

// refusals are the spans of the nemesis ops whose completion value says,
// under "refused", that a node's store refused its damaged files (the
// corrupt kind's stop): from the op's invocation to its completion.
func refusals(h harness.History) []refusal {
	var out []refusal
	for _, p := range h.Nemesis().Pairs() {
		if p.Completion == nil || len(p.Completion.Value) == 0 {
			continue
		}
		var v struct {
			Refused map[string]string `json:"refused"`
		}
		if json.Unmarshal(p.Completion.Value, &v) != nil {
			continue
		}
		for node := range v.Refused {
			out = append(out, refusal{node: node, from: p.Invoke.Time.Seconds(), to: p.Completion.Time.Seconds()})
		}
	}
	return out
}
