package main

import (
	"bytes"
	_ "embed"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/faultline/faultline/results"
)

//go:embed serve.gohtml
var serveSource string

var servePages = template.Must(template.New("serve").Funcs(template.FuncMap{
	"verdictClass": verdictClass,
	"size":         func(n int64) string { return humanize.IBytes(uint64(n)) },
}).Parse(serveSource))

// server is the web UI over one run store. Every file it reads goes
// through root, which refuses any path that leaves the store, by ".." or
// by a symlink.
type server struct {
	root  *os.Root
	fsys  fs.FS
	store string
}

func newServer(root *os.Root, store string) *server {
	return &server{root: root, fsys: root.FS(), store: store}
}

// routes maps the UI's pages: / is the index, /run/TEST/STAMP a run, and
// /files/PATH any file of the store.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /run/{path...}", s.run)
	mux.HandleFunc("GET /files/{path...}", s.file)
	return mux
}

// indexPage is what the index shows.
type indexPage struct {
	Store  string
	Runs   []results.RunEntry
	Latest string
	Tables []string
	Counts []verdictCount
}

type verdictCount struct {
	Verdict string
	N       int
}

func (s *server) index(w http.ResponseWriter, r *http.Request) {
	runs, err := results.ListRuns(s.fsys)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	tables, err := results.Tables(s.fsys)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	page := indexPage{Store: s.store, Runs: runs, Tables: tables}
	if target, err := s.root.Readlink("latest"); err == nil && fs.ValidPath(target) {
		page.Latest = target
	}
	for _, v := range []string{"VALID", "INVALID", "UNKNOWN", results.NoVerdict} {
		n := 0
		for _, run := range runs {
			if run.Verdict == v {
				n++
			}
		}
		if n > 0 {
			page.Counts = append(page.Counts, verdictCount{v, n})
		}
	}
	render(w, "index", page)
}

// runPage is what a run's page shows.
type runPage struct {
	Run     results.RunEntry
	Summary string
	Plots   []string
	Reports []string
	Linear  []string
	Files   []runFile
	More    int
}

type runFile struct {
	Path string
	Size int64
}

// maxListedFiles bounds the file list of a run page.
const maxListedFiles = 400

func (s *server) run(w http.ResponseWriter, r *http.Request) {
	dir := strings.TrimSuffix(r.PathValue("path"), "/")
	if !fs.ValidPath(dir) || strings.Count(dir, "/") != 1 {
		http.NotFound(w, r)
		return
	}
	entry, err := results.ReadRunEntry(s.fsys, dir)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	page := runPage{Run: entry}
	if b, err := fs.ReadFile(s.fsys, path.Join(dir, results.SummaryFile)); err == nil {
		page.Summary = string(b)
	}
	exists := func(name string) bool {
		st, err := fs.Stat(s.fsys, path.Join(dir, name))
		return err == nil && !st.IsDir()
	}
	for _, name := range []string{results.LatencyRawPlot, results.LatencyQuantilesPlot, results.RatePlot} {
		if exists(name) {
			page.Plots = append(page.Plots, name)
		}
	}
	for _, name := range []string{results.TimelineFile, results.SummaryFile, results.ResultsFile, results.TestFile,
		results.JUnitFile, results.HistoryFile, results.EDNHistoryFile} {
		if exists(name) {
			page.Reports = append(page.Reports, name)
		}
	}
	err = fs.WalkDir(s.fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(p, dir+"/")
		if strings.HasPrefix(rel, "linear/") && strings.HasSuffix(rel, ".html") {
			page.Linear = append(page.Linear, rel)
		}
		if len(page.Files) == maxListedFiles {
			page.More++
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		page.Files = append(page.Files, runFile{Path: rel, Size: info.Size()})
		return nil
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	render(w, "run", page)
}

// textTypes are the store's text formats that Go does not know by name.
var textTypes = map[string]string{
	".md": "text/plain; charset=utf-8", ".edn": "text/plain; charset=utf-8",
	".jsonl": "text/plain; charset=utf-8", ".log": "text/plain; charset=utf-8",
	".txt": "text/plain; charset=utf-8",
}

// file serves one file of the store as it is. Directories are not listed.
func (s *server) file(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("path")
	if !fs.ValidPath(name) || name == "." {
		http.NotFound(w, r)
		return
	}
	f, err := s.fsys.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		http.Error(w, "file cannot be served", http.StatusInternalServerError)
		return
	}
	if t, ok := textTypes[path.Ext(name)]; ok {
		w.Header().Set("Content-Type", t)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, path.Base(name), st.ModTime(), rs)
}

// render executes a page template. The pages load nothing from elsewhere,
// and say so to the browser.
func render(w http.ResponseWriter, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; img-src 'self'")
	var page bytes.Buffer
	if err := servePages.ExecuteTemplate(&page, name, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(page.Bytes())
}

// verdictClass is the CSS class that colours a verdict.
func verdictClass(v string) string {
	switch v {
	case "VALID":
		return "valid"
	case "INVALID":
		return "invalid"
	case "UNKNOWN":
		return "unknown"
	}
	return "none"
}
