// Package nemesis injects the faults that package fault describes into a
// cluster: network partitions in the shape of a layout, packet loss,
// bandwidth limits and delays; kills, pauses and crashes of nodes;
// membership changes; and the schedule that times them. Each kind has an
// injector (injector.go) in a file of its own. The layouts and the
// schedule are pure functions of a seed; the rest touches the cluster only
// through harness.Cluster and the optional powers a cluster may have
// (harness.Pauser, harness.Crasher, harness.Membership).
package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// Nemesis performs the scheduled faults on a cluster and remembers what is
// in force, so that a crashed node can get its partition back and Heal
// can undo exactly what was done. It implements harness.Nemesis and
// harness.HealReporter. Ops arrive one at a time from the runner's nemesis
// thread; the mutex only guards against a concurrent Heal on shutdown.
type Nemesis struct {
	mu  sync.Mutex
	net network
	// killed, paused and crashed hold the nodes whose DB process is
	// down, frozen, or whose whole machine is down.
	killed, paused, crashed map[string]bool
	// removed holds the nodes removed from the raft group and wiped.
	removed map[string]bool
	// armed holds the failpoint armed on each node.
	armed map[string]string
	// corrupted holds the nodes killed with damaged files, not yet
	// started again.
	corrupted map[string]bool
	// lastHeal is what the last Heal did.
	lastHeal HealReport
}

// New returns a nemesis with nothing in force.
func New() *Nemesis {
	return &Nemesis{
		net:    network{shaping: map[string]string{}},
		killed: map[string]bool{}, paused: map[string]bool{}, crashed: map[string]bool{},
		removed: map[string]bool{}, armed: map[string]string{}, corrupted: map[string]bool{},
	}
}

var (
	_ harness.Nemesis      = (*Nemesis)(nil)
	_ harness.HealReporter = (*Nemesis)(nil)
)

// refusal is the error of a step the nemesis declined to take, because it
// would break a safety bound (a membership below MinMembers) or names a
// state that does not hold. Nothing was done, so the op is a fail.
type refusal struct{ error }

func refuse(format string, args ...any) error { return refusal{fmt.Errorf(format, args...)} }

// Invoke performs one nemesis op and returns its completion: ok when the
// fault is in force, fail when the nemesis refused it and did nothing,
// info when it may have been partly applied. The value says what was hit.
func (m *Nemesis) Invoke(ctx context.Context, c harness.Cluster, op harness.Op) harness.Op {
	m.mu.Lock()
	defer m.mu.Unlock()
	leader := ""
	if k, edge := fault.Of(op.F); edge == fault.Opens && k.Effect != fault.Removed {
		leader = leaderNow(ctx, c)
	}
	value, err := m.invoke(ctx, c, op)
	switch v := value.(type) {
	case Effect:
		v.Leader = leader
		value = v
	case Partition:
		v.Leader = leader
		value = v
	case CorruptEffect:
		v.Leader = leader
		value = v
	}
	done := op.Completion(harness.OK)
	var r refusal
	switch {
	case errors.As(err, &r):
		done.Type, done.Error = harness.Fail, err.Error()
	case err != nil:
		done.Type, done.Error = harness.Info, err.Error()
	}
	if value != nil {
		done.Value = harness.MustValue(value)
	}
	switch v := value.(type) {
	case Effect:
		done.Node = strings.Join(v.Nodes, ",")
	case MemberEffect:
		done.Node = v.Node
	case CorruptEffect:
		done.Node = strings.Join(v.Nodes, ",")
	case UpgradeEffect:
		done.Node = strings.Join(v.Nodes, ",")
	}
	return done
}

func (m *Nemesis) invoke(ctx context.Context, c harness.Cluster, op harness.Op) (any, error) {
	_, inj, starts, err := injectorOf(op.F)
	if err != nil {
		return nil, err
	}
	if starts {
		return inj.start(ctx, m, c, op)
	}
	return inj.stop(ctx, m, c, op)
}

// HealReport is the heal op's completion value: what the final heal did.
type HealReport struct {
	Resumed   []string `json:"resumed,omitempty"`
	Rebooted  []string `json:"rebooted,omitempty"`
	Restarted []string `json:"restarted,omitempty"`
	Readded   []string `json:"readded,omitempty"`
	// Refused holds the log line of each damaged node whose store refused
	// its files; Replaced those then wiped and added back.
	Refused  map[string]string `json:"refused,omitempty"`
	Replaced []string          `json:"replaced,omitempty"`
	// Members names the raft group's members after the heal ("?" for
	// one not started), when the cluster reports membership.
	Members []string `json:"members,omitempty"`
	// MembersUnknown says why no member list was had, when none was.
	MembersUnknown string `json:"members_unknown,omitempty"`
}

// membersWait bounds the heal's wait for a member list: nodes it just
// started may take seconds to answer (a restarted single node replays
// its WAL first).
const membersWait = 15 * time.Second

// listMembers asks for the member list until an answer or membersWait.
func listMembers(ctx context.Context, ms harness.Membership) ([]harness.Member, error) {
	ctx, cancel := context.WithTimeout(ctx, membersWait)
	defer cancel()
	for {
		members, err := ms.Members(ctx)
		if err == nil {
			return members, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("member list: %w", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Heal undoes every fault in force, in the order that lets each step
// work: it resumes paused processes, removes every network fault, reboots
// crashed machines and restarts killed processes, then adds removed
// members back (which needs a quorum that sees them). It is safe to call
// at any time and more than once; every step is tried even when an
// earlier one failed.
func (m *Nemesis) Heal(ctx context.Context, c harness.Cluster) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rep HealReport
	_, disarmErr := m.disarmAll(ctx, c)
	resumed, resumeErr := m.resume(ctx, c)
	rep.Resumed = resumed.Nodes
	m.net = network{shaping: map[string]string{}}
	netErr := m.net.apply(ctx, c, c.Nodes(), m.crashed)
	rebooted, rebootErr := m.reboot(ctx, c)
	rep.Rebooted = rebooted.Nodes
	restarted, startErr := m.restart(ctx, c)
	rep.Restarted = restarted.Nodes
	repaired, repairErr := m.restartCorrupted(ctx, c)
	rep.Restarted = append(rep.Restarted, repaired.Nodes...)
	rep.Refused, rep.Replaced = repaired.Refused, repaired.Replaced
	var addErrs []error
	for _, name := range sortedKeys(m.removed) {
		v := harness.Op{F: fault.MemberAdd, Value: harness.MustValue(memberValue{Node: name})}
		if _, err := m.addMember(ctx, c, v); err != nil {
			addErrs = append(addErrs, err)
			continue
		}
		rep.Readded = append(rep.Readded, name)
	}
	if ms, ok := c.(harness.Membership); ok {
		members, err := listMembers(ctx, ms)
		rep.Members = memberNames(members)
		if err != nil {
			// The membership is reported, not needed: the final probes
			// judge whether every node serves again.
			rep.MembersUnknown = err.Error()
		}
	}
	m.lastHeal = rep
	return errors.Join(disarmErr, resumeErr, netErr, rebootErr, startErr, repairErr, errors.Join(addErrs...))
}

// HealReport returns what the last Heal did.
func (m *Nemesis) HealReport() any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastHeal
}

// leaderNow asks the cluster for its leader, briefly: the reports say
// which node led when a fault began. No answer is no leader.
func leaderNow(ctx context.Context, c harness.Cluster) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	l, err := c.Leader(ctx)
	if err != nil {
		return ""
	}
	return l.Name
}

// chooseNodes resolves a fault's targets to node names: the explicit
// nodes if the step names them, else a choice drawn from the step's seed
// (asking the cluster for its leader when the choice is "leader" or
// "follower").
func chooseNodes(ctx context.Context, c harness.Cluster, v faultValue) ([]string, error) {
	names := nodeNames(c.Nodes())
	if len(v.Nodes) > 0 {
		for _, n := range v.Nodes {
			if !slices.Contains(names, n) {
				return nil, refuse("no node %q in the cluster", n)
			}
		}
		return sorted(v.Nodes), nil
	}
	leader := ""
	if v.Targets == "leader" || v.Targets == "follower" {
		l, err := c.Leader(ctx)
		if err != nil {
			return nil, fmt.Errorf("find leader: %w", err)
		}
		leader = l.Name
	}
	return pickTargets(v.Targets, v.Count, names, leader, rand.New(rand.NewSource(v.Seed)))
}

// eachNamed runs f on the named nodes of c concurrently.
func eachNamed(c harness.Cluster, names []string, f func(harness.Node) error) error {
	return eachNode(namedNodes(c, names), f)
}

func nodeNames(nodes []harness.Node) []string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return names
}

func sortedKeys(set map[string]bool) []string {
	var out []string
	for k, on := range set {
		if on {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
