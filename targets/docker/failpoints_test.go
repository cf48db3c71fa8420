package docker

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAConnectionBrokenMidRequestIsTold: a process that a failpoint
// crashes while it is being disarmed resets or closes the connection
// after the request was sent; DisarmFailpoint tries again on exactly
// those errors, never on an answer or a refused connection.
func TestAConnectionBrokenMidRequestIsTold(t *testing.T) {
	hangUp := func(reset bool) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			require.NoError(t, err)
			if reset {
				require.NoError(t, conn.(*net.TCPConn).SetLinger(0))
			}
			_ = conn.Close()
		}))
	}
	for _, reset := range []bool{false, true} {
		s := hangUp(reset)
		req, err := http.NewRequest(http.MethodDelete, s.URL+"/fp", nil)
		require.NoError(t, err)
		_, err = http.DefaultTransport.RoundTrip(req)
		require.Error(t, err)
		assert.True(t, brokenMidRequest(err), "reset %v: %v", reset, err)
		s.Close()
	}

	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	resp, err := http.Get(ok.URL)
	require.NoError(t, err)
	_ = resp.Body.Close()
	ok.Close()
	_, err = http.Get(ok.URL) // closed: refused
	require.Error(t, err)
	assert.False(t, brokenMidRequest(err), "a refused connection is a process that is down: %v", err)
	assert.False(t, brokenMidRequest(nil))
}
