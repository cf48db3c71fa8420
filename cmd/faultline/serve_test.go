package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
	"github.com/faultline/faultline/results/edn"
)

// Names in the fake store.
const (
	invalidRun = "etcd-register/20261125T170328.123Z"
	validRun   = "etcd-register/20261125T160000.000Z"
	killedRun  = "kvnode-register/20261125T180512.456Z"
	matrixHTML = "matrix/20261125T190000.000Z/table.html"
	secretText = "the secret outside the store"
)

// fakeStore builds a store by hand, needing no cluster: an invalid etcd
// run with every report (from a real, if short, history), an older valid
// one, a kvnode run whose harness was killed (no results.json), a matrix
// table, the latest link, and a symlink that points outside the store.
func fakeStore(t *testing.T) string {
	t.Helper()
	store := filepath.Join(t.TempDir(), "store")
	h, err := edn.ReadHistoryFile(filepath.Join(ednTestdata, "register-valid.edn"), edn.CASRegister)
	require.NoError(t, err)
	for i := range h {
		h[i].Time = time.Duration(i) * 400 * time.Millisecond
	}
	write := func(rel string, content []byte) {
		path := filepath.Join(store, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, content, 0o644))
	}
	spec := harness.Spec{Name: "etcd-register", Target: "etcd", Nodes: 5, Workload: "register",
		Nemesis: []string{"partition", "kill"}, Partition: "halves", Seed: 7, TimeLimit: 10 * time.Second}
	for _, c := range []struct {
		dir   string
		valid harness.Valid
	}{{invalidRun, harness.ValidFalse}, {validRun, harness.ValidTrue}} {
		run := &results.Run{Dir: filepath.Join(store, filepath.FromSlash(c.dir))}
		rs := harness.Results{Valid: c.valid, Checkers: map[string]harness.Result{
			"linearizable": {Valid: c.valid, Summary: []string{"linearizable: 1 keys, by hand"}},
		}}
		require.NoError(t, os.MkdirAll(run.Dir, 0o755))
		require.NoError(t, run.WriteJSON(results.TestFile, spec))
		require.NoError(t, run.WriteJSON(results.ResultsFile, rs))
		require.NoError(t, run.WriteFile(results.SummaryFile, []byte(results.Summary(spec, rs, run.Dir))))
		f, err := os.Create(run.Path(results.HistoryFile))
		require.NoError(t, err)
		require.NoError(t, harness.WriteJSONL(f, h))
		require.NoError(t, f.Close())
		require.NoError(t, results.WriteReports(run.Dir, results.Report{Spec: spec, History: h, Results: rs}))
	}
	write(invalidRun+"/linear/r1.html", []byte("<html>porcupine</html>"))
	write(invalidRun+"/nodes/n1/etcd.log", []byte("etcd started\n"))
	killed := spec
	killed.Name, killed.Target, killed.Nodes, killed.Nemesis = "kvnode-register", "kvnode", 3, []string{"kill"}
	b, err := json.Marshal(killed)
	require.NoError(t, err)
	write(killedRun+"/test.json", b)
	write(killedRun+"/history.jsonl", []byte(`{"index":0,"process":0,"type":"invoke","f":"read","time":5}`+"\n{\"ind"))
	write(matrixHTML, []byte("<html><body>matrix table</body></html>"))
	write("matrix/20261125T190000.000Z/table.md", []byte("| target | verdict |\n"))
	require.NoError(t, os.Symlink(filepath.FromSlash(invalidRun), filepath.Join(store, "latest")))

	outside := filepath.Join(t.TempDir(), "secret.txt")
	require.NoError(t, os.WriteFile(outside, []byte(secretText), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(store, "escape.txt")))
	require.NoError(t, os.Symlink(filepath.Dir(outside), filepath.Join(store, invalidRun, "elsewhere")))
	return store
}

func testServer(t *testing.T, store string) *httptest.Server {
	t.Helper()
	root, err := os.OpenRoot(store)
	require.NoError(t, err)
	t.Cleanup(func() { root.Close() })
	srv := httptest.NewServer(newServer(root, store).routes())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header
}

// TestServeIndex: every run, newest first, with test, time, target,
// nodes, layout and a coloured verdict; the killed run too; the matrix
// tables; and a link to the latest run.
func TestServeIndex(t *testing.T) {
	srv := testServer(t, fakeStore(t))
	code, page, header := get(t, srv.URL+"/")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, header.Get("Content-Security-Policy"), "default-src 'self'")
	rows := page[strings.Index(page, "<table>"):]
	killed := strings.Index(rows, `<a href="/run/`+killedRun+`">`)
	invalid := strings.Index(rows, `<a href="/run/`+invalidRun+`">`)
	valid := strings.Index(rows, `<a href="/run/`+validRun+`">`)
	require.True(t, killed > 0 && invalid > 0 && valid > 0, "every run is linked:\n%s", page)
	assert.True(t, killed < invalid && invalid < valid, "newest first")
	assert.Contains(t, page, `<span class="verdict invalid">INVALID</span>`)
	assert.Contains(t, page, `<span class="verdict valid">VALID</span>`)
	assert.Contains(t, page, `<span class="verdict none">NO VERDICT</span>`)
	assert.Contains(t, page, "2026-11-25 17:03:28")
	assert.Contains(t, page, "<td>halves</td>")
	assert.Contains(t, page, "<td>kvnode</td>")
	assert.Contains(t, page, `href="/files/`+matrixHTML+`"`)
	assert.Contains(t, page, `latest: <a href="/run/`+invalidRun+`"`)
	assert.NotContains(t, page, "escape.txt")
}

// TestServeRun: a run's page shows its summary, its plots inline, its
// reports and files; the files are served with the right types.
func TestServeRun(t *testing.T) {
	srv := testServer(t, fakeStore(t))
	code, page, _ := get(t, srv.URL+"/run/"+invalidRun)
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, page, "verdict   INVALID (exit 1)")
	for _, plot := range []string{results.LatencyRawPlot, results.LatencyQuantilesPlot, results.RatePlot} {
		assert.Contains(t, page, `<img src="/files/`+invalidRun+`/`+plot+`"`)
	}
	assert.Contains(t, page, `href="/files/`+invalidRun+`/linear/r1.html"`)
	assert.Contains(t, page, `href="/files/`+invalidRun+`/timeline.html"`)
	assert.Contains(t, page, `href="/files/`+invalidRun+`/nodes/n1/etcd.log"`)

	code, body, header := get(t, srv.URL+"/files/"+invalidRun+"/"+results.LatencyRawPlot)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "image/png", header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(body, "\x89PNG"))
	code, body, header = get(t, srv.URL+"/files/"+invalidRun+"/history.edn")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "text/plain; charset=utf-8", header.Get("Content-Type"))
	assert.Contains(t, body, ":type :invoke")

	code, page, _ = get(t, srv.URL+"/run/"+killedRun)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, page, "NO VERDICT")
	assert.Contains(t, page, "did not finish this run")

	for _, missing := range []string{"/run/etcd-register", "/run/nope/nope", "/files/" + invalidRun, "/files/nope.txt"} {
		code, _, _ = get(t, srv.URL+missing)
		assert.Equal(t, http.StatusNotFound, code, missing)
	}
}

// TestServeStaysInsideTheStore: no path, however written, and no symlink
// reaches a file outside the store.
func TestServeStaysInsideTheStore(t *testing.T) {
	store := fakeStore(t)
	srv := testServer(t, store)
	for _, p := range []string{
		"/files/escape.txt", "/files/" + invalidRun + "/elsewhere/secret.txt",
		"/files/../secret.txt", "/files/%2e%2e/%2e%2e/secret.txt", "/files/..%2f..%2fsecret.txt",
		"/run/..%2f..%2f/etc", "/files//etc/passwd", "/files/" + invalidRun + "/../../../escape.txt",
	} {
		code, body, _ := get(t, srv.URL+p)
		assert.NotEqual(t, http.StatusOK, code, p)
		assert.NotContains(t, body, secretText, p)
		assert.NotContains(t, body, "root:", p)
	}
	// A raw request, which no client has cleaned.
	for _, p := range []string{"/files/../../secret.txt", "/files/" + invalidRun + "/../../../../etc/passwd", "/run/../../etc"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		require.NoError(t, err)
		_, err = io.WriteString(conn, "GET "+p+" HTTP/1.0\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		assert.NotEqual(t, http.StatusOK, resp.StatusCode, p)
		assert.NotContains(t, string(body), secretText, p)
		assert.NotContains(t, string(body), "root:", p)
	}
}

// TestServeRefusesBadFlags: a store that does not exist and an address
// that cannot be listened on are bad input.
func TestServeRefusesBadFlags(t *testing.T) {
	r := runFaultline(t, time.Minute, "serve", "--store", filepath.Join(t.TempDir(), "missing"))
	assert.Equal(t, harness.ExitBadInput, r.code)
	assert.Contains(t, r.stderr, "--store")
	r = runFaultline(t, time.Minute, "serve", "--store", t.TempDir(), "--addr", "256.0.0.1:99999")
	assert.Equal(t, harness.ExitBadInput, r.code)
	assert.Contains(t, r.stderr, "--addr")
}
