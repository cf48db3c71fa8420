package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// NoVerdict is the verdict shown for a run that has no results.json: the
// harness was killed, or is still running.
const NoVerdict = "NO VERDICT"

// RunEntry is one run of the store as an index lists it.
type RunEntry struct {
	// Path is the run's directory relative to the store root, "test/stamp",
	// always with forward slashes.
	Path string
	// Test is the test name, the first element of Path.
	Test string
	// Started is the run's start, read from its directory name; zero if
	// the name is not a timestamp.
	Started time.Time
	// Spec is the run's test.json; zero when it has none.
	Spec harness.Spec
	// Verdict is VALID, INVALID, UNKNOWN or NoVerdict.
	Verdict string
}

// Layout is the partition layout the run used, or "-" when it did not
// partition.
func (e RunEntry) Layout() string {
	if slices.Contains(e.Spec.Nemesis, "partition") && e.Spec.Partition != "" {
		return e.Spec.Partition
	}
	return "-"
}

// Faults lists the run's fault kinds, or "none".
func (e RunEntry) Faults() string {
	if len(e.Spec.Nemesis) == 0 {
		return "none"
	}
	return strings.Join(e.Spec.Nemesis, ",")
}

// ListRuns finds every run of the store fsys (the store's root, as
// os.Root.FS gives it): each directory test/stamp holding a test.json or a
// history. Runs are listed newest first. A run whose test.json or
// results.json cannot be read is listed all the same, as far as it can
// be: an index must show a half-written run rather than hide it.
func ListRuns(fsys fs.FS) ([]RunEntry, error) {
	tests, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var runs []RunEntry
	for _, test := range tests {
		if !test.IsDir() || strings.HasPrefix(test.Name(), ".") || test.Name() == "matrix" {
			continue
		}
		stamps, err := fs.ReadDir(fsys, test.Name())
		if err != nil {
			return nil, fmt.Errorf("list runs of %s: %w", test.Name(), err)
		}
		for _, stamp := range stamps {
			if !stamp.IsDir() {
				continue
			}
			if e, ok := readEntry(fsys, path.Join(test.Name(), stamp.Name())); ok {
				runs = append(runs, e)
			}
		}
	}
	slices.SortFunc(runs, func(a, b RunEntry) int {
		if c := b.Started.Compare(a.Started); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	return runs, nil
}

// ReadRunEntry reads the run at dir (relative to the store root fsys). It
// fails when dir is no run: it has no test.json and no history.
func ReadRunEntry(fsys fs.FS, dir string) (RunEntry, error) {
	e, ok := readEntry(fsys, dir)
	if !ok {
		return RunEntry{}, fmt.Errorf("%s is not a run: it has no %s and no history", dir, TestFile)
	}
	return e, nil
}

func readEntry(fsys fs.FS, dir string) (RunEntry, bool) {
	exists := func(name string) bool {
		_, err := fs.Stat(fsys, path.Join(dir, name))
		return err == nil
	}
	if !exists(TestFile) && !exists(HistoryFile) && !exists(EDNHistoryFile) {
		return RunEntry{}, false
	}
	test, stamp := path.Split(dir)
	e := RunEntry{Path: dir, Test: strings.TrimSuffix(test, "/"), Verdict: NoVerdict}
	if t, err := time.Parse(TimeFormat, stamp); err == nil {
		e.Started = t
	}
	_ = readJSONFS(fsys, path.Join(dir, TestFile), &e.Spec)
	var rs harness.RawResults
	if err := readJSONFS(fsys, path.Join(dir, ResultsFile), &rs); err == nil {
		e.Verdict = Verdict(rs.Valid)
	}
	return e, true
}

// readJSONFS reads a JSON file of fsys into v.
func readJSONFS(fsys fs.FS, name string, v any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Tables lists the comparison tables of the store: every .html and .md
// file under matrix/, as paths relative to the root, newest directory
// first.
func Tables(fsys fs.FS) ([]string, error) {
	var tables []string
	err := fs.WalkDir(fsys, "matrix", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".md")) {
			tables = append(tables, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	slices.SortFunc(tables, func(a, b string) int {
		if c := strings.Compare(path.Dir(b), path.Dir(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return tables, nil
}
