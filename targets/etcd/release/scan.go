package release

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Failpoint is one "// gofail: var <Name> <Type>" comment in a release's
// sources: a place where a failpoint build can be made to panic, sleep or
// return early.
type Failpoint struct {
	// Name is what GOFAIL_HTTP and GOFAIL_FAILPOINTS call it.
	Name string
	// File is the Go file, slash-separated and relative to the scanned
	// directory, and Line its line.
	File string
	Line int
}

// gofailPrefix starts every line gofail rewrites.
const gofailPrefix = "// gofail:"

// ScanFailpoints returns the failpoints of the Go sources under dir, sorted
// by name. Tests and testdata are left out: they are not in the binary. A
// gofail comment that is neither a failpoint nor a label, and a name
// declared twice (gofail's runtime panics at start when a name is
// registered twice), are errors.
func ScanFailpoints(dir string) ([]Failpoint, error) {
	var fps []Failpoint
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		found, err := scanFile(path, filepath.ToSlash(rel))
		fps = append(fps, found...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("scan failpoints in %s: %w", dir, err)
	}
	sort.Slice(fps, func(i, j int) bool { return fps[i].Name < fps[j].Name })
	for i := 1; i < len(fps); i++ {
		if fps[i].Name == fps[i-1].Name {
			a, b := fps[i-1], fps[i]
			return nil, fmt.Errorf("scan failpoints in %s: %s is declared at %s:%d and %s:%d; gofail's runtime would panic at start", dir, a.Name, a.File, a.Line, b.File, b.Line)
		}
	}
	return fps, nil
}

// scanFile returns the failpoints of one Go file, named rel in them.
func scanFile(path, rel string) ([]Failpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var fps []Failpoint
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, gofailPrefix)
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		switch {
		case len(fields) == 3 && fields[0] == "var":
			fps = append(fps, Failpoint{Name: fields[1], File: rel, Line: n})
		case len(fields) == 1 && strings.HasSuffix(fields[0], ":"):
			// A label a failpoint's code may break to or goto.
		default:
			return nil, fmt.Errorf("%s:%d: malformed gofail comment %q", rel, n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return fps, nil
}

// failpointFiles returns the distinct files that fps are in, sorted.
func failpointFiles(fps []Failpoint) []string {
	seen := map[string]bool{}
	var files []string
	for _, fp := range fps {
		if !seen[fp.File] {
			seen[fp.File] = true
			files = append(files, fp.File)
		}
	}
	sort.Strings(files)
	return files
}
