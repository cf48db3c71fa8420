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
	"time"

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
	// Files holds each node's durable files by path; the paths under
	// member/wal and member/snap are its WAL and snapshot files.
	Files map[string]map[string][]byte
	// Refuse holds, per node, the log line its store refuses damaged files
	// with on StartDamaged; a node not in it serves.
	Refuse map[string]string
	// BuildList is what Builds returns; Versions each node's build.
	BuildList []string
	Versions  map[string]string
	// FailpointNames are the failpoints every node's store has; Armed
	// holds each node's armed failpoint and its action.
	FailpointNames []string
	Armed          map[string]string
	// Revision is the store's revision, for Compact and HashKV.
	Revision int64
}

var (
	_ harness.ExitWatcher = (*Cluster)(nil)
	_ harness.Cluster     = (*Cluster)(nil)
	_ harness.Pauser      = (*Cluster)(nil)
	_ harness.Crasher     = (*Cluster)(nil)
	_ harness.Membership  = (*Cluster)(nil)
	_ harness.Disk        = (*Cluster)(nil)
	_ harness.Upgrader    = (*Cluster)(nil)
	_ harness.Failpointer = (*Cluster)(nil)
	_ harness.Maintainer  = (*Cluster)(nil)
)

// NewCluster returns a cluster of n nodes n1..nN at 10.0.0.2..., every
// process running, every node a member, n1 the leader.
func NewCluster(n int) *Cluster {
	c := &Cluster{Network: map[string]string{}, Process: map[string]string{}, Down: map[string]bool{}, LeaderName: "n1",
		Files: map[string]map[string][]byte{}, Refuse: map[string]string{}, Versions: map[string]string{},
		Armed: map[string]string{}, Revision: 1000}
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

// Nodes lists the nodes, each with its build from Versions.
func (c *Cluster) Nodes() []harness.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.nodes)
	for i := range out {
		out[i].Version = c.Versions[out[i].Name]
	}
	return out
}

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

// DataFiles lists n's files of kind: those under member/<kind>/.
func (c *Cluster) DataFiles(_ context.Context, n harness.Node, kind string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for p := range c.Files[n.Name] {
		if strings.HasPrefix(p, "member/"+kind+"/") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ReadFile returns a copy of one of n's Files.
func (c *Cluster) ReadFile(_ context.Context, n harness.Node, path string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data, ok := c.Files[n.Name][path]
	if !ok {
		return nil, fmt.Errorf("%s: no file %s", n.Name, path)
	}
	return slices.Clone(data), nil
}

// WriteFile replaces one of n's Files.
func (c *Cluster) WriteFile(_ context.Context, n harness.Node, path string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.Files[n.Name][path]; !ok {
		return fmt.Errorf("%s: no file %s", n.Name, path)
	}
	c.Files[n.Name][path] = slices.Clone(data)
	c.record("write %s %s", n.Name, path)
	return nil
}

// StartDamaged starts n, which then refuses with Refuse[n] (its process
// stays killed) or serves.
func (c *Cluster) StartDamaged(_ context.Context, n harness.Node, _ time.Duration) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("start-damaged %s", n.Name)
	if line := c.Refuse[n.Name]; line != "" {
		return line, nil
	}
	c.Process[n.Name] = "running"
	return "", nil
}

// Builds returns BuildList.
func (c *Cluster) Builds() []string { return c.BuildList }

// Stop marks n's process stopped.
func (c *Cluster) Stop(_ context.Context, n harness.Node) error {
	return c.setProcess(n, "stopped", "stop")
}

// SetVersion sets n's build in Versions.
func (c *Cluster) SetVersion(n harness.Node, build string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Versions[n.Name] = build
	c.record("version %s %s", n.Name, build)
	return nil
}

// Failpoints returns FailpointNames.
func (c *Cluster) Failpoints(context.Context, harness.Node) ([]string, error) {
	return c.FailpointNames, nil
}

// ArmFailpoint records name=action as n's armed failpoint.
func (c *Cluster) ArmFailpoint(_ context.Context, n harness.Node, name, action string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Armed[n.Name] = name + "=" + action
	c.record("arm %s %s=%s", n.Name, name, action)
	return nil
}

// DisarmFailpoint forgets n's armed failpoint.
func (c *Cluster) DisarmFailpoint(_ context.Context, n harness.Node, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.Armed, n.Name)
	c.record("disarm %s %s", n.Name, name)
	return nil
}

// Compact records the call and returns the revision compacted at.
func (c *Cluster) Compact(_ context.Context, n harness.Node, revision int64) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("compact %s %d", n.Name, revision)
	if revision <= 0 {
		revision += c.Revision
	}
	return revision, nil
}

// Defragment records the call.
func (c *Cluster) Defragment(_ context.Context, n harness.Node) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("defragment %s", n.Name)
	return nil
}

// MoveLeader makes to the leader.
func (c *Cluster) MoveLeader(_ context.Context, to harness.Node) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	from := c.LeaderName
	c.LeaderName = to.Name
	c.record("move-leader %s", to.Name)
	return from, nil
}

// Snapshot records the call.
func (c *Cluster) Snapshot(_ context.Context, n harness.Node) (int64, int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("snapshot %s", n.Name)
	return 4096, c.Revision, nil
}

// HashKV returns the same hash for every node.
func (c *Cluster) HashKV(_ context.Context, n harness.Node, revision int64) (harness.HashKV, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if revision == 0 {
		revision = c.Revision
	}
	return harness.HashKV{Node: n.Name, Revision: revision, Current: c.Revision, Hash: 42}, nil
}
