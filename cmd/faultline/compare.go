package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/results"
)

// compareCommand builds the matrix's comparison table from stored runs:
// each argument is a run directory, or a test directory standing for
// every run in it. It prints the table as Markdown and, with --out, writes
// it as Markdown, HTML, JSON and JUnit. Its exit code is the worst verdict
// of the runs, as the matrix's is.
func compareCommand(args []string) (int, error) {
	fs := newFlagSet("compare", "compare [--out DIR] RUN-OR-TEST-DIR...")
	out := fs.String("out", "", "directory to write table.md, table.html, table.json and junit.xml into; default: print only")
	title := fs.String("title", "faultline compare", "the table's title")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() == 0 {
		return 0, badInput{errors.New("compare needs at least one run directory or test directory (e.g. store/etcd-n5-halves)")}
	}
	dirs, err := results.RunDirs(fs.Args())
	if err != nil {
		return 0, badInput{err}
	}
	table := results.Table{Title: *title, Created: time.Now()}
	for _, d := range dirs {
		c, err := results.CellOf(d)
		if err != nil {
			return 0, badInput{err}
		}
		table.Cells = append(table.Cells, c)
	}
	if *out != "" {
		if err := table.Write(*out); err != nil {
			return 0, err
		}
	}
	fmt.Print(table.Markdown())
	return table.ExitCode(), nil
}
