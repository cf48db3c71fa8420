package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
)

var _ harness.Failpointer = (*Cluster)(nil)

// failpointTimeout bounds one request to a node's gofail endpoint.
const failpointTimeout = 3 * time.Second

// failpointURL is the address of n's gofail endpoint, or an error when the
// target's build has none.
func (c *Cluster) failpointURL(n harness.Node, path string) (string, error) {
	fs, ok := c.cfg.Target.(targets.FailpointServer)
	if !ok || fs.FailpointPort() == 0 {
		return "", fmt.Errorf("target %s serves no failpoints (build it with --target-failpoints)", c.cfg.Target.Name())
	}
	return fmt.Sprintf("http://%s:%d/%s", n.IP, fs.FailpointPort(), path), nil
}

// failpointDo sends one request to n's gofail endpoint and returns the
// status and body.
func (c *Cluster) failpointDo(ctx context.Context, n harness.Node, method, path, body string) (int, string, error) {
	n, err := c.node(n)
	if err != nil {
		return 0, "", err
	}
	url, err := c.failpointURL(n, path)
	if err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, failpointTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}

// Failpoints lists the failpoints n's etcd has, as its gofail endpoint
// lists them ("name=term" lines).
func (c *Cluster) Failpoints(ctx context.Context, n harness.Node) ([]string, error) {
	status, body, err := c.failpointDo(ctx, n, http.MethodGet, "", "")
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("failpoints of %s: status %d: %v", n.Name, status, err)
	}
	var names []string
	for _, line := range strings.Split(body, "\n") {
		if name, _, ok := strings.Cut(strings.TrimSpace(line), "="); ok && name != "" {
			names = append(names, name)
		}
	}
	return names, nil
}

// ArmFailpoint arms name on n with action; one armed to panic makes the
// exit of n's process a failpoint that fired, not a finding.
func (c *Cluster) ArmFailpoint(ctx context.Context, n harness.Node, name, action string) error {
	status, body, err := c.failpointDo(ctx, n, http.MethodPut, name, action)
	if err != nil {
		return fmt.Errorf("arm %s=%s on %s: %w", name, action, n.Name, err)
	}
	if status != http.StatusNoContent && status != http.StatusOK {
		return fmt.Errorf("arm %s=%s on %s: status %d: %s", name, action, n.Name, status, harness.Shorten(strings.TrimSpace(body), 200))
	}
	if strings.Contains(action, "panic") {
		c.mu.Lock()
		c.armed[n.Name] = name
		c.mu.Unlock()
	}
	return nil
}

// disarmRetries bounds the disarms tried on a process whose connection
// broke mid-request, disarmRetryPause apart: a process that a failpoint
// is crashing just then is gone by the next try.
const (
	disarmRetries    = 5
	disarmRetryPause = 200 * time.Millisecond
)

// DisarmFailpoint disarms name on n; a process that is down has nothing
// armed. A connection broken mid-request (the failpoint fired while it was
// being disarmed, and the process is dying) is tried again until the
// process answers or refuses the connection.
func (c *Cluster) DisarmFailpoint(ctx context.Context, n harness.Node, name string) error {
	status, body, err := c.failpointDo(ctx, n, http.MethodDelete, name, "")
	for try := 1; try < disarmRetries && brokenMidRequest(err); try++ {
		select {
		case <-ctx.Done():
			return fmt.Errorf("disarm %s on %s: %w (after %v)", name, n.Name, ctx.Err(), err)
		case <-time.After(disarmRetryPause):
		}
		status, body, err = c.failpointDo(ctx, n, http.MethodDelete, name, "")
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return nil
	case err != nil:
		return fmt.Errorf("disarm %s on %s: %w", name, n.Name, err)
	case status != http.StatusNoContent && status != http.StatusOK && status != http.StatusNotFound:
		return fmt.Errorf("disarm %s on %s: status %d: %s", name, n.Name, status, harness.Shorten(strings.TrimSpace(body), 200))
	}
	c.mu.Lock()
	delete(c.armed, n.Name)
	c.mu.Unlock()
	return nil
}

// brokenMidRequest says whether err is a connection that broke after the
// request was sent: reset by the peer, or closed before the answer.
func brokenMidRequest(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
