package results

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/faultline/faultline/checker/availability"
	"github.com/faultline/faultline/harness"
)

// Files of a comparison table's directory.
const (
	TableMarkdown = "table.md"
	TableHTML     = "table.html"
	TableJSON     = "table.json"
)

// Table compares runs side by side: one row per cell (a target, a node
// count, a fault layout). faultline matrix fills it as it runs the cells;
// faultline compare fills it from stored runs.
type Table struct {
	// Title names the comparison.
	Title string `json:"title"`
	// Created is when the table was made.
	Created time.Time `json:"created"`
	// WallSeconds is how long the whole matrix took; 0 for a comparison of
	// stored runs.
	WallSeconds float64 `json:"wall_seconds,omitempty"`
	// Cells are the rows, in the order they were run or named.
	Cells []Cell `json:"cells"`
}

// ExitCode is the worst of the cells' exit codes: 255 if a cell could not
// be run, else 1 if one is invalid, 2 if one is unknown, 0 otherwise.
func (t Table) ExitCode() int {
	worst := 0
	for _, c := range t.Cells {
		code := c.ExitCode()
		if code == 255 || (worst != 255 && code == 1) || (worst == 0 && code == 2) {
			worst = code
		}
	}
	return worst
}

// columns are the table's headings, in order.
var columns = []string{"target", "nodes", "faults", "verdict", "ok ops/s", "p50 ms", "p99 ms",
	"election gap s", "minority ok ops", "recovery s", "writes accepted", "expectations met", "run"}

// row renders a cell's values under columns.
func (c Cell) row() []string {
	r := []string{c.Target, fmt.Sprint(c.Nodes), c.Faults, c.Verdict}
	if c.Verdict == "SKIPPED" || c.Verdict == "ERROR" {
		r = append(r, make([]string, len(columns)-len(r)-1)...) // blank up to the run column
	} else {
		r = append(r, fmt.Sprintf("%.1f", c.OKPerSecond), fmtFloat(c.LatencyP50Ms, 1), fmtFloat(c.LatencyP99Ms, 1))
		r = append(r, availabilityCells(c.Availability)...)
	}
	return append(r, c.Run)
}

// availabilityCells renders the election gap, minority ok ops (the
// linearizable ones, which break the rules, with serializable reads
// beside), the recovery, the share of time writes were accepted, and how
// many judged fault windows met their expectation.
func availabilityCells(a *availability.Headline) []string {
	if a == nil {
		return []string{"-", "-", "-", "-", "-"}
	}
	minority := fmt.Sprint(a.MinorityLinearizableOK)
	if a.MinoritySerializableReads > 0 {
		minority += fmt.Sprintf(" (+%d serializable reads)", a.MinoritySerializableReads)
	}
	met := "-"
	if a.Met != nil {
		met = fmt.Sprintf("%d/%d", *a.Met, a.Judged)
	}
	if a.Windows > a.Judged {
		met += fmt.Sprintf(" (%d not judged)", a.Windows-a.Judged)
	}
	return []string{fmtFloat(a.ElectionGapS, 2), minority, fmtFloat(a.RecoveryS, 2), fmt.Sprintf("%.1f%%", 100*a.WriteAvailability), met}
}

func fmtFloat(p *float64, digits int) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.*f", digits, *p)
}

// Markdown renders the table as a GitHub-flavoured Markdown table, with a
// line under it for every cell that has a reason.
func (t Table) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", t.Title)
	b.WriteString("| " + strings.Join(columns, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(columns)) + "\n")
	for _, c := range t.Cells {
		cells := c.row()
		for i, v := range cells {
			cells[i] = strings.ReplaceAll(v, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	var notes []string
	for _, c := range t.Cells {
		if c.Reason != "" {
			notes = append(notes, fmt.Sprintf("- %s: %s", c.Name, c.Reason))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	if t.WallSeconds > 0 {
		fmt.Fprintf(&b, "\n%d cells in %s.\n", len(t.Cells), (time.Duration(t.WallSeconds) * time.Second).Round(time.Second))
	}
	return b.String()
}

//go:embed table.gohtml
var tableHTML string

var tablePage = template.Must(template.New("table").Parse(tableHTML))

// HTML renders the table as a standalone page.
func (t Table) HTML() ([]byte, error) {
	rows := make([][]string, len(t.Cells))
	for i, c := range t.Cells {
		rows[i] = c.row()
	}
	var b bytes.Buffer
	err := tablePage.Execute(&b, map[string]any{"Title": t.Title, "Columns": columns, "Rows": rows, "Cells": t.Cells,
		"Created": t.Created.UTC().Format(time.RFC3339), "Wall": time.Duration(t.WallSeconds * float64(time.Second)).Round(time.Second)})
	if err != nil {
		return nil, fmt.Errorf("render table: %w", err)
	}
	return b.Bytes(), nil
}

// JUnit is the table as a JUnit suite named after its title: one case per
// cell, named target-nodes-faults, failing with the cell's row as reason.
// A skipped cell passes; it was never run.
func (t Table) JUnit() JUnitSuite {
	s := JUnitSuite{Name: t.Title}
	if !t.Created.IsZero() {
		s.Timestamp = t.Created.UTC().Format("2006-01-02T15:04:05")
	}
	if t.WallSeconds > 0 {
		s.Time = fmt.Sprintf("%.3f", t.WallSeconds)
	}
	for _, c := range t.Cells {
		v := harness.ValidTrue
		switch c.Verdict {
		case "INVALID":
			v = harness.ValidFalse
		case "UNKNOWN", "ERROR":
			v = harness.ValidUnknown
		}
		var reason []string
		if c.Reason != "" {
			reason = append(reason, c.Verdict+": "+c.Reason)
		}
		for i, v := range c.row() {
			reason = append(reason, columns[i]+": "+v)
		}
		name := fmt.Sprintf("%s-n%d-%s", c.Target, c.Nodes, c.Faults)
		s.Add(NewJUnitCase("matrix."+c.Target, name, v, reason, time.Duration(c.Seconds*float64(time.Second))))
	}
	return s
}

// Write stores the table in dir as Markdown, HTML and JSON, and as a JUnit
// report with one test case per cell.
func (t Table) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("table directory: %w", err)
	}
	page, err := t.HTML()
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encode table: %w", err)
	}
	for name, b := range map[string][]byte{TableMarkdown: []byte(t.Markdown()), TableHTML: page, TableJSON: append(js, '\n')} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return WriteJUnit(filepath.Join(dir, JUnitFile), t.JUnit())
}
