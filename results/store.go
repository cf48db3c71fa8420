// Package results is the run store: where a test's spec, history, verdicts,
// reports and node logs are written, and how they are read back.
//
// A run lives in <root>/<test>/<timestamp>/, and <root>/latest points to the
// newest run. The layout is the contract with the people and tools that
// browse it; see DESIGN.md.
package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// File names inside a run directory.
const (
	TestFile    = "test.json"
	HistoryFile = "history.jsonl"
	ResultsFile = "results.json"
	SummaryFile = "summary.txt"
	// EDNHistoryFile is the history in Jepsen's format, written beside
	// history.jsonl (and read where history.jsonl is missing).
	EDNHistoryFile = "history.edn"
	NodesDir       = "nodes"
)

// TimeFormat names run directories; it sorts in time order.
const TimeFormat = "20060102T150405.000Z"

// Run is one run's directory in the store.
type Run struct {
	// Dir is the run's directory.
	Dir string
}

// NewRun creates <root>/<test>/<timestamp>/ and points <root>/latest at it.
func NewRun(root, test string, now time.Time) (*Run, error) {
	if test == "" || filepath.Base(test) != test {
		return nil, fmt.Errorf("test name %q must be a plain directory name", test)
	}
	stamp := now.UTC().Format(TimeFormat)
	dir := filepath.Join(root, test, stamp)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	if err := pointLatest(root, filepath.Join(test, stamp)); err != nil {
		return nil, err
	}
	return &Run{Dir: dir}, nil
}

// pointLatest atomically replaces the latest symlink with one to rel.
func pointLatest(root, rel string) error {
	latest := filepath.Join(root, "latest")
	tmp := latest + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(rel, tmp); err != nil {
		return fmt.Errorf("link latest run: %w", err)
	}
	if err := os.Rename(tmp, latest); err != nil {
		return fmt.Errorf("link latest run: %w", err)
	}
	return nil
}

// Path returns the path of a file inside the run.
func (r *Run) Path(name string) string { return filepath.Join(r.Dir, name) }

// WriteJSON writes v, indented, to a file of the run.
func (r *Run) WriteJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return r.WriteFile(name, append(b, '\n'))
}

// WriteFile writes a file of the run, creating its directory.
func (r *Run) WriteFile(name string, b []byte) error {
	path := r.Path(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// ReadJSON reads a JSON file of the run into v.
func (r *Run) ReadJSON(name string, v any) error {
	b, err := os.ReadFile(r.Path(name))
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", r.Path(name), err)
	}
	return nil
}

// Open finds the run at path: a run directory, or a history file inside
// one (or standing alone, in which case Dir is its directory). A directory's
// history is its history.jsonl, else its history.edn (a Jepsen store's).
func Open(path string) (*Run, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", fmt.Errorf("open run: %w", err)
	}
	if !st.IsDir() {
		return &Run{Dir: filepath.Dir(path)}, path, nil
	}
	for _, name := range []string{HistoryFile, EDNHistoryFile} {
		hist := filepath.Join(path, name)
		_, err := os.Stat(hist)
		if err == nil {
			return &Run{Dir: path}, hist, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("open run: %w", err)
		}
	}
	return nil, "", fmt.Errorf("%s is not a run directory: it has no %s (nor a Jepsen %s)", path, HistoryFile, EDNHistoryFile)
}
