package harness

import (
	"context"
	"time"
)

// Node is one machine of the cluster under test.
type Node struct {
	// Name is n1..nN.
	Name string `json:"name"`
	// IP is the node's fixed address on the run's network.
	IP string `json:"ip"`
	// Endpoint is the client URL of the DB process, e.g. http://10.1.0.2:2379.
	Endpoint string `json:"endpoint"`
	// Version is the build of the store the node runs (an etcd release,
	// "custom"), when the target has several (targets.Versioned).
	Version string `json:"version,omitempty"`
}

// Cluster is everything nemeses and clients may know of and do to the nodes.
// The runner sees the cluster only through this interface, so it runs
// unchanged against a fake in tests and against Docker containers for real.
type Cluster interface {
	// Nodes lists the nodes in name order.
	Nodes() []Node
	// Exec runs a command inside the node's machine and returns its
	// combined output. A non-zero exit status is an error that includes
	// the output.
	Exec(ctx context.Context, n Node, cmd ...string) (string, error)
	// Kill SIGKILLs the DB process on n. Killing a dead process is no error.
	Kill(ctx context.Context, n Node) error
	// Start starts the DB process on n if it is not running, rejoining the
	// existing cluster with its durable state.
	Start(ctx context.Context, n Node) error
	// Leader returns the node that currently leads, as the cluster reports.
	Leader(ctx context.Context) (Node, error)
}

// Pauser is a cluster that can freeze and thaw DB processes (SIGSTOP and
// SIGCONT). A cluster that cannot simply does not implement it.
type Pauser interface {
	Pause(ctx context.Context, n Node) error
	Resume(ctx context.Context, n Node) error
}

// Crasher is a cluster whose machines can crash: every process of a node
// dies at once and its network namespace, with every iptables rule and
// qdisc in it, is lost. Its disk survives. A cluster that cannot crash
// machines simply does not implement it.
type Crasher interface {
	// Crash kills node n's whole machine. Crashing a crashed node is no
	// error.
	Crash(ctx context.Context, n Node) error
	// Reboot starts n's machine again after a Crash and returns once it
	// runs. It comes back with its disk and address but a fresh network
	// namespace and no DB process: the caller re-applies the network
	// faults in force and then starts the DB.
	Reboot(ctx context.Context, n Node) error
}

// Member is one member of the raft group, as the cluster reports it.
type Member struct {
	// ID is the raft member id.
	ID uint64 `json:"id"`
	// Name is the node the member runs on; empty while a member that was
	// added has not started yet.
	Name string `json:"name,omitempty"`
}

// Membership is a cluster whose raft membership can change while it runs,
// as an operator replaces a broken member: remove it, wipe it, add it back
// empty. A cluster (or a store) that cannot simply does not implement it.
type Membership interface {
	// Members lists the raft group's members as a live node reports them.
	Members(ctx context.Context) ([]Member, error)
	// RemoveMember removes n from the raft group (through another
	// member), stops its DB process and wipes its durable state.
	RemoveMember(ctx context.Context, n Node) (Member, error)
	// AddMember adds the empty node n to the raft group and starts it,
	// joining the cluster as it now is. It returns the new member once n
	// serves a linearizable read, which is bounded by ctx.
	AddMember(ctx context.Context, n Node) (Member, error)
}

// NodeByName finds a node by name.
func NodeByName(nodes []Node, name string) (Node, bool) {
	for _, n := range nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// ExitWatcher is a cluster that notices when a DB process exits by itself:
// not killed, crashed, or stopped for a membership change by the nemesis.
// It is optional; the runner records each exit it reports as a
// ProcessExit op of the MonitorProcess.
type ExitWatcher interface {
	// WatchExits calls exited for each such exit, from one goroutine,
	// until ctx is done.
	WatchExits(ctx context.Context, exited func(Exit))
}

// ProcessExit is the op the runner records, as MonitorProcess, when a DB
// process exits by itself. Its value is an Exit.
const ProcessExit = "process-exit"

// Exit is the value of a ProcessExit op.
type Exit struct {
	// Node is the node whose DB process exited.
	Node string `json:"node"`
	// Code is its exit status (2 for a Go panic, 1 for a fatal log), or
	// -1 when unknown.
	Code int `json:"code"`
	// Line is the line of its log that says why, if one does.
	Line string `json:"line,omitempty"`
	// Failpoint is the failpoint armed to panic on the node when it
	// exited: the test's doing, not the store's.
	Failpoint string `json:"failpoint,omitempty"`
}

// FailpointFired is the op the runner records, as MonitorProcess, instead
// of ProcessExit when the process that exited had a failpoint armed to
// panic: a failpoint that fired. Its value is an Exit.
const FailpointFired = "failpoint-fired"

// Failpointer is a cluster whose store was built with failpoints it can
// arm over the network (gofail's HTTP endpoint). It is optional; the
// failpoint fault needs it.
type Failpointer interface {
	// Failpoints lists the failpoints n's store has.
	Failpoints(ctx context.Context, n Node) ([]string, error)
	// ArmFailpoint arms failpoint name on n with action, gofail's term:
	// panic("name"), sleep(100), 1*panic, ...
	ArmFailpoint(ctx context.Context, n Node, name, action string) error
	// DisarmFailpoint disarms failpoint name on n. Disarming one that is
	// not armed, or on a node whose process is down, is no error.
	DisarmFailpoint(ctx context.Context, n Node, name string) error
}

// Maintainer is a cluster whose store takes etcd's maintenance calls:
// compaction, defragmentation, leadership transfer, snapshots and hashes
// of the key-value store. It is optional; the admin faults and the check
// of the replicas at the end need it, and a store may refuse a call it
// does not serve (the error then says so).
type Maintainer interface {
	// Compact compacts the store's history through n up to revision, or,
	// when revision is 0 or less, up to that many revisions behind n's
	// current one. It returns the revision compacted at.
	Compact(ctx context.Context, n Node, revision int64) (int64, error)
	// Defragment defragments n's backend.
	Defragment(ctx context.Context, n Node) error
	// MoveLeader makes to the leader, through the current one, and
	// returns the node that led before.
	MoveLeader(ctx context.Context, to Node) (string, error)
	// Snapshot streams a snapshot of n's store and returns its size in
	// bytes and the revision n was at.
	Snapshot(ctx context.Context, n Node) (size, revision int64, err error)
	// HashKV hashes n's key-value store up to revision (0: its current
	// one).
	HashKV(ctx context.Context, n Node, revision int64) (HashKV, error)
}

// HashKV is one member's hash of its key-value store.
type HashKV struct {
	// Node is the member's node.
	Node string `json:"node"`
	// Revision is the revision hashed up to; Current the member's current
	// revision when it answered.
	Revision int64 `json:"revision"`
	Current  int64 `json:"current"`
	// CompactRevision is the member's compacted revision.
	CompactRevision int64 `json:"compact_revision"`
	// Hash is the hash.
	Hash uint32 `json:"hash"`
}

// HashKVF is the f of the ops the runner records, as MonitorProcess, with
// each member's HashKV at the end of a run.
const HashKVF = "hashkv"

// Upgrader is a cluster whose nodes can move between builds of the store
// (releases) while keeping their data: a rolling upgrade or downgrade. It
// is optional; the upgrade fault needs it.
type Upgrader interface {
	// Builds lists the builds the nodes can run, in the order an upgrade
	// moves a node through them.
	Builds() []string
	// Stop stops n's DB process gracefully (SIGTERM; SIGKILL if it has
	// not exited within a few seconds). Stopping a stopped process is no
	// error.
	Stop(ctx context.Context, n Node) error
	// SetVersion makes n run build from its next start on.
	SetVersion(n Node, build string) error
}

// The kinds of durable file a Disk lists.
const (
	// WALFiles are the write-ahead log's segments.
	WALFiles = "wal"
	// SnapFiles are the raft snapshot files.
	SnapFiles = "snap"
)

// Disk is a cluster whose nodes' durable files the harness can reach
// while their DB process is down, to damage them as a failing disk would.
// It is optional; the corrupt fault needs it.
type Disk interface {
	// DataFiles lists the paths, inside n, of n's durable files of a kind
	// (WALFiles, SnapFiles), in name order.
	DataFiles(ctx context.Context, n Node, kind string) ([]string, error)
	// ReadFile reads a file inside n.
	ReadFile(ctx context.Context, n Node, path string) ([]byte, error)
	// WriteFile replaces a file inside n, keeping its mode and owner.
	WriteFile(ctx context.Context, n Node, path string, data []byte) error
	// StartDamaged starts n's DB process on files that were damaged and
	// waits until it serves, or until it exits, which is then the test's
	// doing and no ProcessExit: a store may rightly refuse data it finds
	// damaged. It returns the line of n's log that says why it refused,
	// or "" when it serves. A process that neither serves nor exits
	// within timeout is no error either: the checkers judge it.
	StartDamaged(ctx context.Context, n Node, timeout time.Duration) (refused string, err error)
}
