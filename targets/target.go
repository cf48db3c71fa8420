// Package targets describes the stores under test. A Target says how to
// build a store's image, how to start its process on one node and where
// that process logs; the Docker cluster (package targets/docker) does the
// rest, the same way for every store.
//
// Every target speaks etcd's v3 gRPC API, so one client (OpenClient) serves
// them all.
package targets

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// ClusterState says whether a DB process founds a new cluster or rejoins
// the existing one with its durable state.
type ClusterState int

const (
	// New is the first start of every node of a fresh cluster.
	New ClusterState = iota
	// Existing is every later start: a restart after a kill, or a node
	// joining a cluster that already runs.
	Existing
)

// String renders the state as etcd's --initial-cluster-state wants it.
func (s ClusterState) String() string {
	if s == Existing {
		return "existing"
	}
	return "new"
}

// Target is one store under test: etcd, kvnode. Implementations are
// stateless descriptions; the cluster owns every process.
type Target interface {
	// Name is the --target value, e.g. "etcd".
	Name() string
	// Image makes sure the target's image exists and returns its tag. It
	// builds nothing when an image for the same inputs already exists.
	Image(ctx context.Context, b ImageBuilder) (string, error)
	// ProcessName is the DB process's name as pkill -x matches it (the
	// kernel's comm, at most 15 bytes).
	ProcessName() string
	// LogPath is the file inside the container that the process's
	// stdout and stderr are appended to.
	LogPath() string
	// ClientPort is the TCP port the process serves clients on.
	ClientPort() int
	// Command is the DB process's argv on node n of the cluster all.
	Command(n harness.Node, all []harness.Node, state ClusterState) []string
}

// RaftTimer is a target that reports its raft timing. It is optional, in
// the way of hashicorp/raft's small interfaces: the availability checker
// reads the election timeout to set its default grace period, and a target
// that does not implement it is assumed to use DefaultElectionTimeout.
type RaftTimer interface {
	// ElectionTimeout is how long a follower waits without hearing from
	// a leader before it campaigns.
	ElectionTimeout() time.Duration
}

// DefaultElectionTimeout is the election timeout assumed of a target that
// is no RaftTimer: etcd's own default.
const DefaultElectionTimeout = time.Second

// ElectionTimeoutOf returns t's election timeout, or DefaultElectionTimeout.
func ElectionTimeoutOf(t Target) time.Duration {
	if rt, ok := t.(RaftTimer); ok {
		return rt.ElectionTimeout()
	}
	return DefaultElectionTimeout
}

// ImageBuilder builds the images of targets. Every target image is the
// shared base image (Debian with iptables, iproute2 and procps) plus one
// executable; package targets/docker implements it.
//
// A target built from this repository keys its image by its sources:
//
//	root, err := targets.ModuleRoot()
//	key, err := targets.HashTree(root, "kvnode", "go.mod", "go.sum")
//	tag, err := b.BinaryImage(ctx, targets.BinarySpec{
//		Name:  "kvnode",
//		Key:   key,
//		Build: targets.GoBuild(root, "./kvnode/cmd/kvnode"),
//	})
type ImageBuilder interface {
	// BinaryImage returns the tag of the base image plus spec's binary,
	// building it only if no image of the same inputs exists.
	BinaryImage(ctx context.Context, spec BinarySpec) (string, error)
	// BinariesImage returns the tag of the base image plus several
	// binaries, each at its Path, as image faultline/<name>; it builds
	// only the binaries of an image that does not exist yet.
	BinariesImage(ctx context.Context, name string, specs []BinarySpec) (string, error)
}

// BinarySpec is one executable layered on the base image.
type BinarySpec struct {
	// Name is the executable's file name. It is installed as
	// /usr/local/bin/<Name> and names the image, faultline/<Name>.
	Name string
	// Key identifies everything the binary is built from (a version, a
	// hash of the sources). The image tag is a hash of the base image,
	// Name and Key, so when the tag exists Build is never called. An
	// empty Key means "unknown inputs": Build always runs and the tag is
	// a hash of the binary's bytes instead.
	Key string
	// Build writes the executable to the path out.
	Build func(ctx context.Context, out string) error
	// Path is where the executable is installed; empty means
	// /usr/local/bin/<Name>. BinariesImage needs distinct paths.
	Path string
}

// InstallPath is where spec's executable is installed.
func (s BinarySpec) InstallPath() string {
	if s.Path != "" {
		return s.Path
	}
	return "/usr/local/bin/" + s.Name
}

// Validate reports what is missing from spec.
func (s BinarySpec) Validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("binary spec: empty name")
	case s.Build == nil:
		return fmt.Errorf("binary spec %s: no build function", s.Name)
	}
	return nil
}

// Rejoiner is a target whose nodes can leave the raft group and join it
// again empty, the way an operator replaces a broken member (member
// remove, wipe, member add, start with state existing). It is optional:
// the member fault needs it, and a target without it is refused that
// fault before anything starts.
type Rejoiner interface {
	Target
	// DataDir is the directory inside the node that holds all of the DB
	// process's durable state. Removing it makes the node new.
	DataDir() string
	// PeerURL is the URL n's DB process serves raft peers on, as
	// MemberAdd takes it and the member list reports it.
	PeerURL(n harness.Node) string
}

// APIProvider is a target that says which of harness.AllAPIs it serves.
// It is optional: a target that is none is taken to serve them all, as
// etcd does.
type APIProvider interface {
	APIs() []harness.API
}

// APIsOf returns the APIs t serves.
func APIsOf(t Target) []harness.API {
	if p, ok := t.(APIProvider); ok {
		return p.APIs()
	}
	return harness.AllAPIs
}

// Bugged is a target with deliberate bug modes, so that the harness can
// prove its checkers catch them. It is optional.
type Bugged interface {
	Target
	// BugModes lists the modes --target-bug accepts.
	BugModes() []string
	// WithBug returns the target in bug mode bug, one of BugModes.
	WithBug(bug string) Target
}

// LogPatterner is a target that knows lines of its log that show it
// failing beyond the common ones (a panic, a fatal error, a data race):
// regular expressions for the log checker. It is optional.
type LogPatterner interface {
	FailingLogLines() []string
}

// Versioned is a target whose nodes may run different builds of the store
// (releases, a user's own binary): it says which build each node starts
// on, and the cluster records it as harness.Node.Version. Command reads
// n.Version. It is optional.
type Versioned interface {
	Target
	// NodeVersions lists the build of each node of a cluster of n, n1
	// first.
	NodeVersions(n int) []string
	// Builds lists every build the image holds, in the order an upgrade
	// moves a node through them.
	Builds() []string
}

// VersionReporter is a target that can say what build a node runs: the
// command inside the node that prints the store's own version. It is
// optional; test.json records its output.
type VersionReporter interface {
	VersionCommand(version string) []string
}

// Config is what a spec asks of its target beyond its name: which builds
// (--target-version), with failpoints or not (--target-failpoints), a
// binary of the user's own (--target-binary), extra flags for the DB
// process (--target-flag) and a bug mode (--target-bug).
type Config struct {
	Versions   []string
	Failpoints bool
	Binary     string
	Flags      []string
	Bug        string
}

// IsZero reports whether c asks nothing.
func (c Config) IsZero() bool {
	return len(c.Versions) == 0 && !c.Failpoints && c.Binary == "" && len(c.Flags) == 0 && c.Bug == ""
}

// Configurable is a target that can be configured: Configure returns it as
// c asks, or a *harness.FlagError naming the flag it cannot take. It is
// optional; a target that is none takes no Config.
type Configurable interface {
	Configure(c Config) (Target, error)
}

// CheckFlags checks extra flags for a DB process: each NAME=VALUE, with a
// name of letters, digits and dashes that is not one the harness sets
// (reserved) nor given twice.
func CheckFlags(flags, reserved []string) error {
	seen := map[string]bool{}
	for _, f := range flags {
		name, _, ok := strings.Cut(f, "=")
		name = strings.TrimPrefix(name, "--")
		switch {
		case !ok || !flagName.MatchString(name):
			return harness.BadValue("target-flag", f, "want NAME=VALUE, such as snapshot-count=100")
		case slices.Contains(reserved, name):
			return harness.BadValue("target-flag", f, "--%s is set by the harness itself (it sets %s)", name, strings.Join(reserved, ", "))
		case seen[name]:
			return harness.BadValue("target-flag", f, "--%s is given twice", name)
		}
		seen[name] = true
	}
	return nil
}

var flagName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,80}$`)

// CheckBinary checks a --target-binary: an executable regular file.
func CheckBinary(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return harness.BadValue("target-binary", path, "cannot read it: %v", err)
	case !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0:
		return harness.BadValue("target-binary", path, "is not an executable file")
	}
	return nil
}

// The maintenance calls a store may take.
const (
	CallCompact    = "compact"
	CallDefragment = "defragment"
	CallMoveLeader = "move-leader"
	CallSnapshot   = "snapshot"
	CallHashKV     = "hashkv"
)

// AllCalls lists every maintenance call, as etcd takes them.
var AllCalls = []string{CallCompact, CallDefragment, CallMoveLeader, CallSnapshot, CallHashKV}

// MaintenanceProvider is a target that says which of etcd's maintenance
// calls its store takes. It is optional: a target that is none takes them
// all, as etcd does.
type MaintenanceProvider interface {
	MaintenanceCalls() []string
}

// MaintenanceCallsOf returns the maintenance calls t's store takes.
func MaintenanceCallsOf(t Target) []string {
	if p, ok := t.(MaintenanceProvider); ok {
		return p.MaintenanceCalls()
	}
	return AllCalls
}

// FailpointChecker is a target that can say, before a run, whether every
// build it runs has the named failpoints. It is optional; the failpoint
// fault draws among the names a node's build has either way.
type FailpointChecker interface {
	CheckFailpoints(ctx context.Context, names []string) error
}

// FailpointServer is a target whose build serves failpoints over the
// network (gofail's HTTP endpoint) on FailpointPort; 0 means this build
// has none. It is optional.
type FailpointServer interface {
	FailpointPort() int
}

// DiskLayout is a Rejoiner that says where under its DataDir its durable
// files of each kind lie, as shell globs relative to DataDir by kind
// (harness.WALFiles, harness.SnapFiles). It is optional; the corrupt
// fault needs it.
type DiskLayout interface {
	Rejoiner
	DataFiles() map[string]string
}
