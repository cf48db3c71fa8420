// Package kvnode is the target for faultline's own raft KV server (the
// program in kvnode/cmd/kvnode): its image, built from this repository's
// sources, and its command line, which mirrors etcd's flag names.
package kvnode

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
)

// Raft timing of every kvnode, the same as etcd's target so that the two
// stores are compared under equal settings.
const (
	// HeartbeatInterval is --heartbeat-interval.
	HeartbeatInterval = 100 * time.Millisecond
	// ElectionTimeout is --election-timeout.
	ElectionTimeout = 1000 * time.Millisecond
)

// Ports and paths inside each node's container.
const (
	ClientPort   = 2379
	PeerPort     = 2380
	DataDir      = "/var/lib/kvnode"
	LogFile      = "/var/log/kvnode.log"
	ClusterToken = "faultline"
)

// Package is the Go package kvnode's binary is built from.
const Package = "./kvnode/cmd/kvnode"

// BugModes are the values --target-bug accepts for kvnode.
var BugModes = []string{"stale-read", "early-ack", "lost-restart", "watch-skip-after-restart", "lease-follower-expiry"}

// Target is kvnode, optionally in a bug mode, from this repository's
// sources or a binary of the user's own build.
type Target struct {
	// Bug is passed as --bug; empty runs the correct node.
	Bug string
	// Binary is the host path of a kvnode of the user's own build.
	Binary string
	// Flags are extra flags for every node's kvnode, as NAME=VALUE.
	Flags []string
}

// Reserved are the flags Command sets, which --target-flag may not.
var Reserved = []string{"name", "data-dir", "listen-client-urls", "advertise-client-urls", "listen-peer-urls",
	"initial-advertise-peer-urls", "initial-cluster", "initial-cluster-state", "initial-cluster-token",
	"heartbeat-interval", "election-timeout", "bug"}

// Configure returns kvnode in a bug mode, from a binary of the user's own,
// with extra flags. kvnode has no releases and no failpoints.
func (Target) Configure(c targets.Config) (targets.Target, error) {
	switch {
	case len(c.Versions) > 0:
		return nil, harness.BadValue("target-version", strings.Join(c.Versions, ","), "kvnode has no releases: it is built from this repository (give --target-binary for a build of your own)")
	case c.Failpoints:
		return nil, harness.BadFlag("target-failpoints", "kvnode has no failpoints: they are etcd's (gofail)")
	}
	if err := ValidateBug(c.Bug); err != nil {
		return nil, harness.BadValue("target-bug", c.Bug, "%v", err)
	}
	if c.Binary != "" {
		if err := targets.CheckBinary(c.Binary); err != nil {
			return nil, err
		}
	}
	if err := targets.CheckFlags(c.Flags, Reserved); err != nil {
		return nil, err
	}
	return Target{Bug: c.Bug, Binary: c.Binary, Flags: slices.Clone(c.Flags)}, nil
}

var (
	_ targets.Target       = Target{}
	_ targets.Rejoiner     = Target{}
	_ targets.RaftTimer    = Target{}
	_ targets.Bugged       = Target{}
	_ targets.APIProvider  = Target{}
	_ targets.Configurable = Target{}
)

// ElectionTimeout is ElectionTimeout; it makes Target a targets.RaftTimer.
func (Target) ElectionTimeout() time.Duration { return ElectionTimeout }

// BugModes are BugModes; with WithBug they make Target a targets.Bugged.
func (Target) BugModes() []string { return BugModes }

// WithBug returns kvnode in bug mode bug.
func (t Target) WithBug(bug string) targets.Target {
	t.Bug = bug
	return t
}

// MaintenanceCalls are the maintenance calls kvnode takes: Compact only.
func (Target) MaintenanceCalls() []string { return []string{targets.CallCompact} }

// APIs are the APIs kvnode serves: KV with Txn, Lease and Watch
// (kvnode/README.md).
func (Target) APIs() []harness.API {
	return []harness.API{harness.APITxn, harness.APILease, harness.APIWatch}
}

// ValidateBug reports whether bug is a kvnode bug mode (or empty).
func ValidateBug(bug string) error {
	if bug == "" || slices.Contains(BugModes, bug) {
		return nil
	}
	return fmt.Errorf("unknown kvnode bug mode %q: want one of %s", bug, strings.Join(BugModes, ", "))
}

// Name is "kvnode".
func (Target) Name() string { return "kvnode" }

// ProcessName is "kvnode".
func (Target) ProcessName() string { return "kvnode" }

// LogPath is /var/log/kvnode.log.
func (Target) LogPath() string { return LogFile }

// ClientPort is 2379.
func (Target) ClientPort() int { return ClientPort }

// DataDir is /var/lib/kvnode; it makes Target a targets.Rejoiner.
func (Target) DataDir() string { return DataDir }

// DataFiles says where the WAL segments and raft snapshot files lie, as
// etcd's wal and snap packages lay them out; it makes Target a
// targets.DiskLayout.
func (Target) DataFiles() map[string]string {
	return map[string]string{harness.WALFiles: "member/wal/*.wal", harness.SnapFiles: "member/snap/*.snap"}
}

// PeerURL is http://<n's IP>:2380.
func (Target) PeerURL(n harness.Node) string { return peerURL(n) }

// Image makes sure the kvnode image exists and returns its tag. The tag
// hashes the base image, the kvnode sources and go.sum, so an unchanged
// tree builds nothing.
func (t Target) Image(ctx context.Context, b targets.ImageBuilder) (string, error) {
	if t.Binary != "" {
		tag, err := b.BinaryImage(ctx, targets.BinarySpec{Name: "kvnode", Build: targets.CopyFile(t.Binary)})
		if err != nil {
			return "", fmt.Errorf("kvnode image of %s: %w", t.Binary, err)
		}
		return tag, nil
	}
	root, err := targets.ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("kvnode image: %w", err)
	}
	key, err := targets.HashTree(root, "kvnode", "go.mod", "go.sum")
	if err != nil {
		return "", fmt.Errorf("kvnode image: %w", err)
	}
	tag, err := b.BinaryImage(ctx, targets.BinarySpec{Name: "kvnode", Key: key, Build: targets.GoBuild(root, Package)})
	if err != nil {
		return "", fmt.Errorf("kvnode image: %w", err)
	}
	return tag, nil
}

// Command is kvnode's command line on node n of the cluster all.
func (t Target) Command(n harness.Node, all []harness.Node, state targets.ClusterState) []string {
	peers := make([]string, len(all))
	for i, m := range all {
		peers[i] = fmt.Sprintf("%s=%s", m.Name, peerURL(m))
	}
	cmd := []string{
		"kvnode",
		"--name", n.Name,
		"--data-dir", DataDir,
		"--listen-client-urls", fmt.Sprintf("http://0.0.0.0:%d", ClientPort),
		"--advertise-client-urls", fmt.Sprintf("http://%s:%d", n.IP, ClientPort),
		"--listen-peer-urls", fmt.Sprintf("http://0.0.0.0:%d", PeerPort),
		"--initial-advertise-peer-urls", peerURL(n),
		"--initial-cluster", strings.Join(peers, ","),
		"--initial-cluster-state", state.String(),
		"--initial-cluster-token", ClusterToken,
		"--heartbeat-interval", strconv.FormatInt(HeartbeatInterval.Milliseconds(), 10),
		"--election-timeout", strconv.FormatInt(ElectionTimeout.Milliseconds(), 10),
	}
	if t.Bug != "" {
		cmd = append(cmd, "--bug", t.Bug)
	}
	for _, f := range t.Flags {
		cmd = append(cmd, "--"+f)
	}
	return cmd
}

func peerURL(n harness.Node) string { return fmt.Sprintf("http://%s:%d", n.IP, PeerPort) }
