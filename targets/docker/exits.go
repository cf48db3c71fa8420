package docker

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

var _ harness.ExitWatcher = (*Cluster)(nil)

// exitPoll is how often WatchExits asks the engine about the DB processes.
// An exec inspection is one API call, no process in the container.
const exitPoll = 500 * time.Millisecond

// expectStop marks n's DB process as one the harness stops: its exit is
// no finding.
func (c *Cluster) expectStop(n harness.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopping[n.Name] = true
}

// WatchExits reports each DB process that exits while the harness did not
// stop it: it asks the engine about each node's DB exec every half second
// and, for one that no longer runs, reads the line of the node's log that
// says why. It returns when ctx is done.
func (c *Cluster) WatchExits(ctx context.Context, exited func(harness.Exit)) {
	t := time.NewTicker(exitPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, n := range c.nodes {
			c.mu.Lock()
			id, stopping, reported := c.dbExec[n.Name], c.stopping[n.Name], c.reported[c.dbExec[n.Name]]
			c.mu.Unlock()
			if id == "" || stopping || reported {
				continue
			}
			info, err := c.cli.ContainerExecInspect(ctx, id)
			if err != nil || info.Running {
				continue // a down machine, or alive
			}
			c.mu.Lock()
			stopping = c.stopping[n.Name] || c.dbExec[n.Name] != id
			c.reported[id] = true
			armed := c.armed[n.Name]
			c.mu.Unlock()
			if stopping {
				continue // the harness stopped it meanwhile
			}
			exited(harness.Exit{Node: n.Name, Code: info.ExitCode, Line: c.whyLine(ctx, n), Failpoint: armed})
		}
	}
}

// fatalLine finds a line that says why a process died: a Go panic, a fatal
// error, a zap log at level panic or fatal, a data race report.
var fatalLine = regexp.MustCompile(`(?i)(^panic: |^fatal error: |"level":"(panic|dpanic|fatal)"|WARNING: DATA RACE)`)

// whyLine returns the last line of n's log tail that says why its process
// died, or the last line of all.
func (c *Cluster) whyLine(ctx context.Context, n harness.Node) string {
	lines := strings.Split(strings.TrimSpace(c.logTail(ctx, n, 60)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if fatalLine.MatchString(lines[i]) {
			return harness.Shorten(strings.TrimSpace(lines[i]), 300)
		}
	}
	if len(lines) > 0 {
		return harness.Shorten(strings.TrimSpace(lines[len(lines)-1]), 300)
	}
	return ""
}
