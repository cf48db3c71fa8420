package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/faultline/faultline/harness"
)

// fakeCluster is an in-memory cluster with every optional power: it keeps
// each node's last network script (lost on a crash, as a real network
// namespace is), its DB process's state, its machine's state and the raft
// membership, and logs every action in order.
type fakeCluster struct {
	mu      sync.Mutex
	nodes   []harness.Node
	network map[string]string // node -> last network script
	process map[string]string // node -> running, killed, paused
	down    map[string]bool   // crashed machines
	members []string          // raft members by name; "" for unstarted
	log     []string
	leader  string
}

func newFakeCluster(n int) *fakeCluster {
	c := &fakeCluster{network: map[string]string{}, process: map[string]string{}, down: map[string]bool{}, leader: "n1"}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("n%d", i)
		c.nodes = append(c.nodes, harness.Node{Name: name, IP: fmt.Sprintf("10.0.0.%d", i+1)})
		c.process[name] = "running"
		c.members = append(c.members, name)
	}
	return c
}

var (
	_ harness.Pauser     = (*fakeCluster)(nil)
	_ harness.Crasher    = (*fakeCluster)(nil)
	_ harness.Membership = (*fakeCluster)(nil)
)

func (c *fakeCluster) record(format string, args ...any) {
	c.log = append(c.log, fmt.Sprintf(format, args...))
}

func (c *fakeCluster) Nodes() []harness.Node { return c.nodes }

func (c *fakeCluster) Exec(_ context.Context, n harness.Node, cmd ...string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down[n.Name] {
		return "", fmt.Errorf("container %s is not running", n.Name)
	}
	script := strings.Join(cmd, " ")
	if strings.Contains(script, Chain) {
		c.network[n.Name] = script
		c.record("net %s", n.Name)
	}
	return "", nil
}

func (c *fakeCluster) setProcess(n harness.Node, state, verb string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down[n.Name] {
		return fmt.Errorf("%s %s: machine is down", verb, n.Name)
	}
	c.process[n.Name] = state
	c.record("%s %s", verb, n.Name)
	return nil
}

func (c *fakeCluster) Kill(_ context.Context, n harness.Node) error {
	return c.setProcess(n, "killed", "kill")
}
func (c *fakeCluster) Start(_ context.Context, n harness.Node) error {
	return c.setProcess(n, "running", "start")
}
func (c *fakeCluster) Pause(_ context.Context, n harness.Node) error {
	return c.setProcess(n, "paused", "pause")
}
func (c *fakeCluster) Resume(_ context.Context, n harness.Node) error {
	return c.setProcess(n, "running", "resume")
}

func (c *fakeCluster) Leader(context.Context) (harness.Node, error) {
	n, _ := harness.NodeByName(c.nodes, c.leader)
	return n, nil
}

func (c *fakeCluster) Crash(_ context.Context, n harness.Node) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down[n.Name], c.process[n.Name] = true, "killed"
	delete(c.network, n.Name) // the namespace dies with the machine
	c.record("crash %s", n.Name)
	return nil
}

func (c *fakeCluster) Reboot(_ context.Context, n harness.Node) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.down, n.Name)
	c.record("reboot %s", n.Name)
	return nil
}

func (c *fakeCluster) Members(context.Context) ([]harness.Member, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []harness.Member
	for i, name := range c.members {
		out = append(out, harness.Member{ID: uint64(i + 1), Name: name})
	}
	return out, nil
}

func (c *fakeCluster) RemoveMember(_ context.Context, n harness.Node) (harness.Member, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.members, n.Name)
	if i < 0 {
		return harness.Member{}, errors.New("not a member")
	}
	c.members = slices.Delete(c.members, i, i+1)
	c.process[n.Name] = "wiped"
	c.record("remove %s", n.Name)
	return harness.Member{ID: uint64(i + 1), Name: n.Name}, nil
}

func (c *fakeCluster) AddMember(_ context.Context, n harness.Node) (harness.Member, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.members = append(c.members, n.Name)
	c.process[n.Name] = "running"
	c.record("add %s", n.Name)
	return harness.Member{ID: 99, Name: n.Name}, nil
}

// drops reports whether node a's network script drops packets from b
// unconditionally.
func (c *fakeCluster) drops(a, b string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, _ := harness.NodeByName(c.nodes, b)
	return strings.Contains(c.network[a], "-s "+n.IP+" -j DROP")
}
