// Package etcd is the target for real etcd: its image (the base image plus
// an etcd server built from the version this module pins) and its command
// line.
package etcd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
)

// Raft timing of every etcd node. The checkers read these: a majority
// needs about one ElectionTimeout (plus up to another of randomization) to
// elect a new leader, and a minority's reads must fail once its leader
// lease has run out.
const (
	// HeartbeatInterval is --heartbeat-interval: how often the leader
	// heartbeats its followers.
	HeartbeatInterval = 100 * time.Millisecond
	// ElectionTimeout is --election-timeout: how long a follower waits
	// without a heartbeat before it campaigns.
	ElectionTimeout = 1000 * time.Millisecond
	// WatchProgressNotifyInterval is --watch-progress-notify-interval:
	// how often a watch opened WithProgressNotify is told the revision
	// it has seen everything up to. etcd's default, 10 minutes, would
	// never show one in a test.
	WatchProgressNotifyInterval = time.Second
)

// Ports and paths inside each node's container.
const (
	ClientPort = 2379
	PeerPort   = 2380
	DataDir    = "/var/lib/etcd"
	LogFile    = "/var/log/etcd.log"
	// ClusterToken is --initial-cluster-token. Every run has its own
	// network and containers, so one token for all runs is safe.
	ClusterToken = "faultline"
)

// ServerPackage is the Go package etcd's server is built from. The module
// keeps it as a tool dependency (go get -tool), so its version is pinned
// in go.mod and `go mod tidy` keeps it.
const ServerPackage = "go.etcd.io/etcd/server/v3"

// Target is etcd. Its zero value is ready to use.
type Target struct{}

var (
	_ targets.Target    = Target{}
	_ targets.RaftTimer = Target{}
)

// Name is "etcd".
func (Target) Name() string { return "etcd" }

// ProcessName is "etcd".
func (Target) ProcessName() string { return "etcd" }

// LogPath is /var/log/etcd.log.
func (Target) LogPath() string { return LogFile }

// ClientPort is 2379.
func (Target) ClientPort() int { return ClientPort }

// ElectionTimeout is ElectionTimeout; it makes Target a targets.RaftTimer.
func (Target) ElectionTimeout() time.Duration { return ElectionTimeout }

// Image makes sure the etcd image exists and returns its tag. The tag
// hashes the base image and etcd's go.sum line (version and source hash),
// so when it exists no go build runs; a cold build takes about 60 s.
//
// Only etcd's own module is in the key: a bump of a shared dependency
// (grpc, bbolt) in go.mod does not rebuild etcd until etcd's version
// changes too.
func (Target) Image(ctx context.Context, b targets.ImageBuilder) (string, error) {
	root, err := targets.ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("etcd image: %w", err)
	}
	key, err := targets.RequiredModule(root, ServerPackage)
	if err != nil {
		return "", fmt.Errorf("etcd image: %w", err)
	}
	tag, err := b.BinaryImage(ctx, targets.BinarySpec{
		Name:  "etcd",
		Key:   key,
		Build: targets.GoBuild(root, ServerPackage),
	})
	if err != nil {
		return "", fmt.Errorf("etcd image: %w", err)
	}
	return tag, nil
}

// Command is etcd's command line on node n of the cluster all. Members are
// named after their nodes; the cluster's membership is all, given
// statically.
func (Target) Command(n harness.Node, all []harness.Node, state targets.ClusterState) []string {
	peers := make([]string, len(all))
	for i, m := range all {
		peers[i] = fmt.Sprintf("%s=%s", m.Name, peerURL(m))
	}
	return []string{
		"etcd",
		"--name", n.Name,
		"--data-dir", DataDir,
		"--listen-client-urls", fmt.Sprintf("http://0.0.0.0:%d", ClientPort),
		"--advertise-client-urls", clientURL(n),
		"--listen-peer-urls", fmt.Sprintf("http://0.0.0.0:%d", PeerPort),
		"--initial-advertise-peer-urls", peerURL(n),
		"--initial-cluster", strings.Join(peers, ","),
		"--initial-cluster-state", state.String(),
		"--initial-cluster-token", ClusterToken,
		"--heartbeat-interval", millis(HeartbeatInterval),
		"--election-timeout", millis(ElectionTimeout),
		"--watch-progress-notify-interval", WatchProgressNotifyInterval.String(),
		"--logger", "zap",
		"--log-level", "info",
	}
}

var _ targets.Rejoiner = Target{}

var _ targets.LogPatterner = Target{}

// FailingLogLines are etcd's lines of a member that found its data
// inconsistent with its peers' (the corruption checks), beside the common
// panic and fatal lines.
func (Target) FailingLogLines() []string {
	return []string{`"msg":"found data inconsistency with peers"`, `"msg":"checkInitialHashKV failed"`}
}

// DataDir is /var/lib/etcd; it makes Target a targets.Rejoiner.
func (Target) DataDir() string { return DataDir }

// PeerURL is http://<n's IP>:2380.
func (Target) PeerURL(n harness.Node) string { return peerURL(n) }

func clientURL(n harness.Node) string { return fmt.Sprintf("http://%s:%d", n.IP, ClientPort) }
func peerURL(n harness.Node) string   { return fmt.Sprintf("http://%s:%d", n.IP, PeerPort) }

func millis(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
