package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
)

// Exec runs cmd inside node n's container and returns its combined stdout
// and stderr. A non-zero exit status is an error that includes the output.
// It returns when ctx is done, even if the command still runs.
func (c *Cluster) Exec(ctx context.Context, n harness.Node, cmd ...string) (string, error) {
	if _, err := c.node(n); err != nil {
		return "", err
	}
	exec, err := c.cli.ContainerExecCreate(ctx, c.containerName(n), container.ExecOptions{
		Cmd:          cmd,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return "", fmt.Errorf("exec %q on %s: %w", cmd, n.Name, err)
	}
	resp, err := c.cli.ContainerExecAttach(ctx, exec.ID, container.ExecAttachOptions{})
	if err != nil {
		return "", fmt.Errorf("exec %q on %s: %w", cmd, n.Name, err)
	}
	// The hijacked connection ignores ctx; closing it ends the copy.
	stop := context.AfterFunc(ctx, resp.Close)
	var out bytes.Buffer
	_, copyErr := stdcopy.StdCopy(&out, &out, resp.Reader)
	stop()
	resp.Close()
	if ctx.Err() != nil {
		return out.String(), fmt.Errorf("exec %q on %s: %w", cmd, n.Name, ctx.Err())
	}
	if copyErr != nil {
		return out.String(), fmt.Errorf("exec %q on %s: read output: %w", cmd, n.Name, copyErr)
	}
	inspect, err := c.cli.ContainerExecInspect(ctx, exec.ID)
	if err != nil {
		return out.String(), fmt.Errorf("exec %q on %s: %w", cmd, n.Name, err)
	}
	if inspect.ExitCode != 0 {
		return out.String(), &ExitError{Node: n.Name, Cmd: cmd, Code: inspect.ExitCode, Output: out.String()}
	}
	return out.String(), nil
}

// ExitError is Exec's error for a command that ran and exited non-zero.
type ExitError struct {
	Node   string
	Cmd    []string
	Code   int
	Output string
}

// Error names the command, the node and the status, followed by the
// command's output.
func (e *ExitError) Error() string {
	return fmt.Sprintf("exec %q on %s: exit status %d: %s", e.Cmd, e.Node, e.Code, strings.TrimSpace(e.Output))
}

// exitCode returns the exit status inside err, or -1 if err is not an
// ExitError.
func exitCode(err error) int {
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return -1
}

// node returns the cluster's own record of the node named like n, so that
// callers may pass a Node that carries only its name.
func (c *Cluster) node(n harness.Node) (harness.Node, error) {
	own, ok := harness.NodeByName(c.nodes, n.Name)
	if !ok {
		return harness.Node{}, fmt.Errorf("no node %q in cluster %s", n.Name, c.network)
	}
	c.mu.Lock()
	own.Version = c.versions[own.Name]
	c.mu.Unlock()
	return own, nil
}

// signal sends sig to the DB process on n by pkill -x. It returns whether
// a process was found: pkill exits 1 when none matches.
func (c *Cluster) signal(ctx context.Context, n harness.Node, sig string) (bool, error) {
	_, err := c.Exec(ctx, n, "pkill", "-"+sig, "-x", c.cfg.Target.ProcessName())
	switch {
	case err == nil:
		return true, nil
	case exitCode(err) == 1:
		return false, nil
	default:
		return false, err
	}
}

// Running reports whether the DB process runs on n (paused counts as
// running).
func (c *Cluster) Running(ctx context.Context, n harness.Node) (bool, error) {
	_, err := c.Exec(ctx, n, "pgrep", "-x", c.cfg.Target.ProcessName())
	switch {
	case err == nil:
		return true, nil
	case exitCode(err) == 1:
		return false, nil
	default:
		return false, err
	}
}

// Kill SIGKILLs the DB process on n and waits until it is gone, at most
// 10 s. Killing a dead process is no error.
func (c *Cluster) Kill(ctx context.Context, n harness.Node) error {
	c.expectStop(n)
	if _, err := c.signal(ctx, n, "KILL"); err != nil {
		return fmt.Errorf("kill %s: %w", n.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		running, err := c.Running(ctx, n)
		if err != nil {
			return fmt.Errorf("kill %s: %w", n.Name, err)
		}
		if !running {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kill %s: still running: %w", n.Name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startTimeout bounds the wait for a started DB process to appear. It
// appears within milliseconds on an idle engine; on a busy one (a load of
// 30 on 2 cores was seen) an exec alone can take seconds.
const startTimeout = 10 * time.Second

// Start starts the DB process on n by a detached exec that appends its
// output to the target's log, unless it already runs. The first start of a
// node founds a new cluster; every later one rejoins the existing cluster.
// Start returns once the process exists (an error with the log's tail if
// it does not appear within startTimeout); it does not wait for it to serve.
func (c *Cluster) Start(ctx context.Context, n harness.Node) error {
	_, err := c.start(ctx, n, startOpts{})
	return err
}

// startOpts are start's variations.
type startOpts struct {
	// members, when not nil, is the membership a node that was wiped and
	// added back joins as an existing cluster, instead of the initial one.
	members []harness.Node
	// mayExit starts a process whose exit is the test's doing (it runs on
	// damaged files): its exit is no finding, and start returns once the
	// exec began, without waiting to see the process.
	mayExit bool
}

// start is Start with opts. It returns the id of the DB process's exec,
// "" when the process already ran.
func (c *Cluster) start(ctx context.Context, n harness.Node, opts startOpts) (string, error) {
	members := opts.members
	n, err := c.node(n)
	if err != nil {
		return "", err
	}
	unlock := c.lockNode(n)
	defer unlock()
	running, err := c.Running(ctx, n)
	if err != nil {
		return "", fmt.Errorf("start %s: %w", n.Name, err)
	}
	if running {
		return "", nil
	}
	c.mu.Lock()
	state := targets.New
	if c.started[n.Name] {
		state = targets.Existing
	}
	c.mu.Unlock()
	all := c.nodes
	if members != nil {
		state, all = targets.Existing, members
	}
	argv := c.cfg.Target.Command(n, all, state)
	script := fmt.Sprintf("exec %s >>%s 2>&1", shellJoin(argv), shellQuote(c.cfg.Target.LogPath()))
	exec, err := c.cli.ContainerExecCreate(ctx, c.containerName(n), container.ExecOptions{Cmd: []string{"sh", "-c", script}})
	if err != nil {
		return "", fmt.Errorf("start %s: %w", n.Name, err)
	}
	if err := c.cli.ContainerExecStart(ctx, exec.ID, container.ExecStartOptions{Detach: true}); err != nil {
		return "", fmt.Errorf("start %s: %w", n.Name, err)
	}
	c.mu.Lock()
	c.started[n.Name] = true
	c.dbExec[n.Name], c.stopping[n.Name] = exec.ID, opts.mayExit
	delete(c.armed, n.Name) // a new process has nothing armed
	c.mu.Unlock()
	if opts.mayExit {
		return exec.ID, nil
	}
	// Wait for the process, so that a Start right after this one finds
	// it running instead of starting a second one.
	deadline := time.Now().Add(startTimeout)
	for {
		running, err := c.Running(ctx, n)
		if err != nil {
			return "", fmt.Errorf("start %s: %w", n.Name, err)
		}
		if running {
			return exec.ID, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("start %s: %s did not start; log tail:\n%s", n.Name, c.cfg.Target.ProcessName(), c.logTail(ctx, n, 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockNode serializes starts of one node.
func (c *Cluster) lockNode(n harness.Node) func() {
	c.mu.Lock()
	l, ok := c.nodeLocks[n.Name]
	if !ok {
		l = &sync.Mutex{}
		c.nodeLocks[n.Name] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// Pause freezes the DB process on n with SIGSTOP. Pausing a node whose
// process is not running does nothing, as in Jepsen: there is nothing to
// freeze, and the nemesis's record of the op says what it attempted.
func (c *Cluster) Pause(ctx context.Context, n harness.Node) error {
	if _, err := c.signal(ctx, n, "STOP"); err != nil {
		return fmt.Errorf("pause %s: %w", n.Name, err)
	}
	return nil
}

// Resume thaws the DB process on n with SIGCONT. Resuming a process that
// is not paused or not running does nothing, so healing may resume every
// node.
func (c *Cluster) Resume(ctx context.Context, n harness.Node) error {
	if _, err := c.signal(ctx, n, "CONT"); err != nil {
		return fmt.Errorf("resume %s: %w", n.Name, err)
	}
	return nil
}

// shellQuote quotes s for sh: single quotes, with embedded ones closed,
// escaped and reopened.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellJoin(argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " ")
}
