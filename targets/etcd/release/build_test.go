package release

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBuildRelease builds v3.5.2, a release other than the main module's,
// plain and with failpoints, checks what --version says, and then crashes
// the failpoint build on loopback at raftBeforeSave, armed over
// GOFAIL_HTTP. It takes about 30 s with a cold build cache.
func TestBuildRelease(t *testing.T) {
	const version = "v3.5.2"
	dir := t.TempDir()
	for _, fp := range []bool{false, true} {
		spec, err := Spec(t.Context(), version, fp)
		require.NoError(t, err, "needs the go command and the module proxy")
		bin := filepath.Join(dir, fmt.Sprintf("etcd-failpoints-%t", fp))
		start := time.Now()
		require.NoError(t, spec.Build(t.Context(), bin))
		t.Logf("built %s (failpoints %t) in %v", version, fp, time.Since(start).Round(100*time.Millisecond))
		out, err := BinaryVersion(t.Context(), bin)
		require.NoError(t, err)
		got, err := ServerVersion(out)
		require.NoError(t, err)
		require.Equal(t, "3.5.2", got)
		require.Contains(t, out, "Go Version: go1.", out)
	}

	fps, err := ScanFailpoints(sourceDir(t, version))
	require.NoError(t, err)
	var at Failpoint
	for _, fp := range fps {
		if fp.Name == "raftBeforeSave" {
			at = fp
		}
	}
	require.NotZero(t, at.Line, "v3.5.2 has raftBeforeSave")

	e := startEtcd(t, filepath.Join(dir, "etcd-failpoints-true"))
	listed := e.gofail(t, http.MethodGet, "/", "")
	names, err := Failpoints(version)
	require.NoError(t, err)
	for _, name := range names {
		require.Contains(t, listed, name+"=\n", "GET / lists every failpoint, none armed")
	}
	e.put(t, "before", "armed")
	e.gofail(t, http.MethodPut, "/raftBeforeSave", "panic")
	require.Equal(t, "panic\n", e.gofail(t, http.MethodGet, "/raftBeforeSave", ""))
	_ = e.tryPut("after", "armed") // it has no answer: the server dies
	log := e.waitExit(t, 10*time.Second)
	require.Contains(t, log, "panic: failpoint panic")
	// gofail v0.2.0's bare panic prints "{}", not the name; the stack
	// has the failpoint's own line, which gofail's rewrite keeps.
	require.Contains(t, log, fmt.Sprintf("%s@%s/%s:%d", ServerModule, version, at.File, at.Line))
}

// sourceDir is the module cache directory of version's server sources.
func sourceDir(t *testing.T, version string) string {
	t.Helper()
	_, dir, err := resolve(t.Context(), version)
	require.NoError(t, err)
	return dir
}

// etcdProcess is a single-member etcd on loopback that the test started.
type etcdProcess struct {
	cmd                  *exec.Cmd
	clientURL, gofailURL string // base URLs
	log                  *syncBuffer
	done                 chan struct{} // closed when the process has ended
	err                  error         // Wait's, once done is closed
}

// startEtcd starts bin as a one-member cluster on free loopback ports, with
// GOFAIL_HTTP on another, and waits until it is healthy. Cleanup kills it
// by its PID if it still runs.
func startEtcd(t *testing.T, bin string) *etcdProcess {
	t.Helper()
	ports := freePorts(t, 4)
	url := func(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", ports[i]) }
	e := &etcdProcess{clientURL: url(0), gofailURL: url(3), log: &syncBuffer{}, done: make(chan struct{})}
	e.cmd = exec.Command(bin,
		"--name", "n1", "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--listen-client-urls", url(0), "--advertise-client-urls", url(0),
		"--listen-peer-urls", url(1), "--initial-advertise-peer-urls", url(1),
		"--initial-cluster", "n1="+url(1), "--listen-metrics-urls", url(2))
	e.cmd.Env = append(e.cmd.Environ(), fmt.Sprintf("GOFAIL_HTTP=127.0.0.1:%d", ports[3]))
	e.cmd.Stdout, e.cmd.Stderr = e.log, e.log
	require.NoError(t, e.cmd.Start())
	go func() { e.err = e.cmd.Wait(); close(e.done) }()
	t.Cleanup(func() {
		select {
		case <-e.done:
		default:
			_ = e.cmd.Process.Kill()
			<-e.done
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(e.clientURL + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), `"health":"true"`) {
				return e
			}
		}
		require.True(t, time.Now().Before(deadline), "etcd is not healthy after 20 s:\n%s", e.log.String())
		time.Sleep(100 * time.Millisecond)
	}
}

// gofail sends one request to the failpoint endpoint and returns the body.
func (e *etcdProcess) gofail(t *testing.T, method, path, body string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.gofailURL+path, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, b)
	return string(b)
}

// tryPut writes key=value through etcd's v3 JSON gateway.
func (e *etcdProcess) tryPut(key, value string) error {
	body := fmt.Sprintf(`{"key":%q,"value":%q}`, b64(key), b64(value))
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Post(e.clientURL+"/v3/kv/put", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"revision"`) {
		return fmt.Errorf("put %s: %s %s", key, resp.Status, b)
	}
	return nil
}

func (e *etcdProcess) put(t *testing.T, key, value string) {
	t.Helper()
	require.NoError(t, e.tryPut(key, value))
}

// waitExit waits for the process to end by itself and returns its output.
func (e *etcdProcess) waitExit(t *testing.T, timeout time.Duration) string {
	t.Helper()
	select {
	case <-e.done:
		require.Error(t, e.err, "a panic exits non-zero")
	case <-time.After(timeout):
		require.Fail(t, "etcd still runs", "after %v:\n%s", timeout, e.log.String())
	}
	return e.log.String()
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// syncBuffer is a bytes.Buffer the process's output goroutines and the
// test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
