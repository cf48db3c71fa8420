// Package harnesstest holds in-memory fakes of the harness's interfaces,
// for the tests of every package: a Cluster with every optional power, a
// linearizable register Store with its Client, a read/write Generator and
// a Nemesis that records what it was asked. They stand beside the real
// ones as hashicorp/raft's in-memory transport does: the runner, the
// nemesis and every checker run against them without Docker.
package harnesstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/faultline/faultline/harness"
)

// Cluster is an in-memory cluster with every optional power: it keeps each
// node's last network script (an exec that runs iptables; lost on a crash,
// as a real network namespace is), its DB process's state, its machine's
// state and the raft membership, and logs every action in order. Tests
// read its fields directly once the code under test is done with it.
type Cluster struct {
	mu    sync.Mutex
	nodes []harness.Node
	// Network is each node's last network script.
	Network map[string]string
	// Process is each node's DB process: running, killed, paused, wiped.
	Process map[string]string
	// Down holds the crashed machines.
	Down map[string]bool
	// MemberNames names the raft members; "" stands for one not started.
	MemberNames []string
	// Log lists every action, as "kill n1", "net n2", "reboot n3".
	Log []string
	// Execs lists every exec, as "n1: sh -c ...".
	Execs []string
	// LeaderName is the node Leader reports.
	LeaderName string
	// Exits, when set, are reported by WatchExits as they arrive.
	Exits chan harness.Exit
}

var (
	_ harness.ExitWatcher = (*Cluster)(nil)
	_ harness.Cluster     = (*Cluster)(nil)
	_ harness.Pauser      = (*Cluster)(nil)
	_ harness.Crasher     = (*Cluster)(nil)
	_ harness.Membership  = (*Cluster)(nil)
)

// NewCluster returns a cluster of n nodes n1..nN at 10.0.0.2..., every
// process running, every node a member, n1 the leader.
func NewCluster(n int) *Cluster {
	c := &Cluster{Network: map[string]string{}, Process: map[string]string{}, Down: map[string]bool{}, LeaderName: "n1"}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("n%d", i)
		c.nodes = append(c.nodes, harness.Node{Name: name, IP: fmt.Sprintf("10.0.0.%d", i+1), Endpoint: fmt.Sprintf("http://10.0.0.%d:2379", i+1)})
		c.Process[name] = "running"
		c.MemberNames = append(c.MemberNames, name)
	}
	return c
}

func (c *Cluster) record(format string, args ...any) {
	c.Log = append(c.Log, fmt.Sprintf(format, args...))
}

// Nodes lists the nodes.
func (c *Cluster) Nodes() []harness.Node { return c.nodes }

// Exec records the command; one that runs iptables becomes the node's
// network script. A crashed machine refuses every exec.
func (c *Cluster) Exec(_ context.Context, n harness.Node, cmd ...string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Down[n.Name] {
		return "", fmt.Errorf("container %s is not running", n.Name)
	}
	script := strings.Join(cmd, " ")
	c.Execs = append(c.Execs, n.Name+": "+script)
	if strings.Contains(script, "iptables") {
		c.Network[n.Name] = script
		c.record("net %s", n.Name)
	}
	return "", nil
}

func (c *Cluster) setProcess(n harness.Node, state, verb string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Down[n.Name] {
		return fmt.Errorf("%s %s: machine is down", verb, n.Name)
	}
	c.Process[n.Name] = state
	c.record("%s %s", verb, n.Name)
	return nil
}

// Kill marks n's process killed.
func (c *Cluster) Kill(_ context.Context, n harness.Node) error {
	return c.setProcess(n, "killed", "kill")
}

// Start marks n's process running.
func (c *Cluster) Start(_ context.Context, n harness.Node) error {
	return c.setProcess(n, "running", "start")
}

// Pause marks n's process paused.
func (c *Cluster) Pause(_ context.Context, n harness.Node) error {
	return c.setProcess(n, "paused", "pause")
}

// Resume marks n's process running.
func (c *Cluster) Resume(_ context.Context, n harness.Node) error {
	return c.setProcess(n, "running", "resume")
}

// Leader returns the node named by LeaderName.
func (c *Cluster) Leader(context.Context) (harness.Node, error) {
	n, ok := harness.NodeByName(c.nodes, c.LeaderName)
	if !ok {
		return harness.Node{}, errors.New("no leader")
	}
	return n, nil
}

// Crash takes n's machine down, with its process and network script.
func (c *Cluster) Crash(_ context.Context, n harness.Node) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Down[n.Name], c.Process[n.Name] = true, "killed"
	delete(c.Network, n.Name) // the namespace dies with the machine
	c.record("crash %s", n.Name)
	return nil
}

// Reboot brings n's machine back, without its process.
func (c *Cluster) Reboot(_ context.Context, n harness.Node) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.Down, n.Name)
	c.record("reboot %s", n.Name)
	return nil
}

// Members lists the raft members, ids counted from 1.
func (c *Cluster) Members(context.Context) ([]harness.Member, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []harness.Member
	for i, name := range c.MemberNames {
		out = append(out, harness.Member{ID: uint64(i + 1), Name: name})
	}
	return out, nil
}

// RemoveMember removes n from Members and wipes its process.
func (c *Cluster) RemoveMember(_ context.Context, n harness.Node) (harness.Member, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.MemberNames, n.Name)
	if i < 0 {
		return harness.Member{}, errors.New("not a member")
	}
	c.MemberNames = slices.Delete(c.MemberNames, i, i+1)
	c.Process[n.Name] = "wiped"
	c.record("remove %s", n.Name)
	return harness.Member{ID: uint64(i + 1), Name: n.Name}, nil
}

// AddMember adds n back and starts it.
func (c *Cluster) AddMember(_ context.Context, n harness.Node) (harness.Member, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.MemberNames = append(c.MemberNames, n.Name)
	c.Process[n.Name] = "running"
	c.record("add %s", n.Name)
	return harness.Member{ID: 99, Name: n.Name}, nil
}

// Drops reports whether node a's network script drops packets from b
// unconditionally.
func (c *Cluster) Drops(a, b string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, _ := harness.NodeByName(c.nodes, b)
	return strings.Contains(c.Network[a], "-s "+n.IP+" -j DROP")
}

// WatchExits reports every Exit sent on Exits until ctx is done.
func (c *Cluster) WatchExits(ctx context.Context, exited func(harness.Exit)) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-c.Exits:
			exited(e)
		}
	}
}
