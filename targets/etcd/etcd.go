// Package etcd is the target for real etcd: its image (the base image plus
// the etcd servers of the releases asked for, each built from the module
// proxy in a build module of its own, with or without gofail failpoints,
// or a binary of the user's own build) and its command line.
package etcd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/etcd/release"
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
	// FailpointPort is where a failpoint build serves gofail's HTTP
	// endpoint (GOFAIL_HTTP).
	FailpointPort = 22381
	DataDir       = "/var/lib/etcd"
	LogFile       = "/var/log/etcd.log"
	// ClusterToken is --initial-cluster-token. Every run has its own
	// network and containers, so one token for all runs is safe.
	ClusterToken = "faultline"
	// binDir holds one directory per build, each with its etcd.
	binDir = "/opt/etcd"
)

// DefaultVersion is the release tested when none is asked for.
const DefaultVersion = "v3.7.3"

// CustomBuild is the build name of a binary of the user's own.
const CustomBuild = "custom"

// ServerPackage is the Go package etcd's server is built from.
const ServerPackage = release.ServerModule

// Target is etcd. Its zero value is DefaultVersion, without failpoints.
type Target struct {
	// Versions are the releases the nodes run in turn (n1 the first, n2
	// the second, ...); empty means DefaultVersion.
	Versions []string
	// Failpoints builds every release with gofail failpoints, served on
	// FailpointPort.
	Failpoints bool
	// Binary is the host path of an etcd of the user's own build, run by
	// every node instead of a release.
	Binary string
	// Flags are extra flags for every node's etcd, as NAME=VALUE.
	Flags []string
}

var (
	_ targets.Target          = Target{}
	_ targets.RaftTimer       = Target{}
	_ targets.Rejoiner        = Target{}
	_ targets.Versioned       = Target{}
	_ targets.VersionReporter = Target{}
	_ targets.Configurable    = Target{}
	_ targets.FailpointServer = Target{}
	_ targets.LogPatterner    = Target{}
)

// Name is "etcd".
func (Target) Name() string { return "etcd" }

// ProcessName is "etcd": every build's executable is named so.
func (Target) ProcessName() string { return "etcd" }

// LogPath is /var/log/etcd.log.
func (Target) LogPath() string { return LogFile }

// ClientPort is 2379.
func (Target) ClientPort() int { return ClientPort }

// ElectionTimeout is ElectionTimeout; it makes Target a targets.RaftTimer.
func (Target) ElectionTimeout() time.Duration { return ElectionTimeout }

// Builds lists the builds the image holds: the releases asked for, or the
// user's binary.
func (t Target) Builds() []string {
	switch {
	case t.Binary != "":
		return []string{CustomBuild}
	case len(t.Versions) == 0:
		return []string{DefaultVersion}
	}
	var out []string
	for _, v := range t.Versions {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// NodeVersions gives the nodes the builds in turn.
func (t Target) NodeVersions(n int) []string {
	order := t.Versions
	if t.Binary != "" || len(order) == 0 {
		order = t.Builds()
	}
	out := make([]string, n)
	for i := range out {
		out[i] = order[i%len(order)]
	}
	return out
}

// Image makes sure the image holding every build exists and returns its
// tag, faultline/etcd:<hash>. Each release is keyed by its build module,
// so an existing image builds nothing; a release that does not exist is a
// *harness.FlagError naming --target-version.
func (t Target) Image(ctx context.Context, b targets.ImageBuilder) (string, error) {
	var specs []targets.BinarySpec
	for _, build := range t.Builds() {
		if build == CustomBuild {
			specs = append(specs, targets.BinarySpec{Name: "etcd", Path: binaryPath(build), Build: targets.CopyFile(t.Binary)})
			continue
		}
		spec, err := release.Spec(ctx, build, t.Failpoints)
		if errors.Is(err, release.ErrNoRelease) {
			return "", harness.BadValue("target-version", build, "%v", err)
		}
		if err != nil {
			return "", fmt.Errorf("etcd image: %w", err)
		}
		spec.Path = binaryPath(build)
		buildIt, v := spec.Build, build
		spec.Build = func(ctx context.Context, out string) error {
			if err := buildIt(ctx, out); err != nil {
				if ctx.Err() != nil {
					return err
				}
				return harness.BadValue("target-version", v, "the release does not build: %s", harness.Shorten(err.Error(), 400))
			}
			return nil
		}
		specs = append(specs, spec)
	}
	tag, err := b.BinariesImage(ctx, "etcd", specs)
	if err != nil {
		return "", fmt.Errorf("etcd image: %w", err)
	}
	return tag, nil
}

// FailpointPort is where a failpoint build serves gofail; 0 without.
func (t Target) FailpointPort() int {
	if t.Failpoints {
		return FailpointPort
	}
	return 0
}

// binaryPath is where build's etcd lives in the image.
func binaryPath(build string) string { return binDir + "/" + build + "/etcd" }

// VersionCommand prints the build's own version.
func (Target) VersionCommand(version string) []string {
	return []string{binaryPath(version), "--version"}
}

// Reserved are the flags Command sets, which --target-flag may not.
var Reserved = []string{"name", "data-dir", "listen-client-urls", "advertise-client-urls", "listen-peer-urls",
	"initial-advertise-peer-urls", "initial-cluster", "initial-cluster-state", "initial-cluster-token",
	"heartbeat-interval", "election-timeout", "logger", "log-level", "log-outputs"}

// Configure returns etcd at the releases (their form checked; whether the
// proxy serves them is known when the image is built), with failpoints,
// or a binary of the user's own, and extra flags. etcd has no bug modes.
func (Target) Configure(c targets.Config) (targets.Target, error) {
	t := Target{Failpoints: c.Failpoints, Binary: c.Binary, Flags: slices.Clone(c.Flags)}
	switch {
	case c.Bug != "":
		return nil, harness.BadValue("target-bug", c.Bug, "etcd has no bug modes (kvnode has)")
	case c.Binary != "" && len(c.Versions) > 0:
		return nil, harness.BadFlag("target-binary", "cannot be given with --target-version: the binary is the build every node runs")
	case c.Binary != "" && c.Failpoints:
		return nil, harness.BadFlag("target-failpoints", "cannot be given with --target-binary: build your binary with gofail enabled yourself, and it serves failpoints when GOFAIL_HTTP is set")
	}
	for _, v := range c.Versions {
		if _, err := release.ParseVersion(v); err != nil {
			return nil, harness.BadValue("target-version", v, "%v", err)
		}
		t.Versions = append(t.Versions, v)
	}
	if c.Binary != "" {
		if err := targets.CheckBinary(c.Binary); err != nil {
			return nil, err
		}
	}
	if err := targets.CheckFlags(c.Flags, Reserved); err != nil {
		return nil, err
	}
	return t, nil
}

// Command is etcd's command line on node n of the cluster all, running
// n's build (n.Version; DefaultVersion when empty). Members are named
// after their nodes; the cluster's membership is all, given statically.
// A failpoint build gets GOFAIL_HTTP, so that the nemesis can arm its
// failpoints.
func (t Target) Command(n harness.Node, all []harness.Node, state targets.ClusterState) []string {
	peers := make([]string, len(all))
	for i, m := range all {
		peers[i] = fmt.Sprintf("%s=%s", m.Name, peerURL(m))
	}
	build := n.Version
	if build == "" {
		build = t.Builds()[0]
	}
	var cmd []string
	if t.Failpoints && build != CustomBuild {
		cmd = append(cmd, "env", fmt.Sprintf("GOFAIL_HTTP=0.0.0.0:%d", FailpointPort))
	}
	cmd = append(cmd,
		binaryPath(build),
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
		"--logger", "zap",
		"--log-level", "info",
	)
	if flag := progressNotifyFlag(build); flag != "" {
		cmd = append(cmd, flag, WatchProgressNotifyInterval.String())
	}
	for _, f := range t.Flags {
		cmd = append(cmd, "--"+f)
	}
	return cmd
}

// CheckFailpoints refuses names that a release the target runs does not
// have, naming the release and listing what it has. A binary of the
// user's own is not checked: its sources are unknown.
func (t Target) CheckFailpoints(ctx context.Context, names []string) error {
	for _, build := range t.Builds() {
		if build == CustomBuild {
			continue
		}
		if err := release.CheckFailpoints(ctx, build, names); err != nil {
			return err
		}
	}
	return nil
}

// progressNotifyFlag names the flag that sets the progress notification
// interval in build: v3.5 knows it as experimental, v3.6 on without the
// prefix. A binary of the user's own gets neither, since its release is
// unknown when its command line is made; its watches then hear progress
// only when they ask for it.
func progressNotifyFlag(build string) string {
	v, err := release.ParseVersion(build)
	switch {
	case err != nil:
		return ""
	case v.Less(release.Version{Major: 3, Minor: 6}):
		return "--experimental-watch-progress-notify-interval"
	}
	return "--watch-progress-notify-interval"
}

// DataDir is /var/lib/etcd; it makes Target a targets.Rejoiner.
func (Target) DataDir() string { return DataDir }

// DataFiles says where the WAL segments and raft snapshot files lie, as
// etcd's wal and snap packages lay them out; it makes Target a
// targets.DiskLayout.
func (Target) DataFiles() map[string]string {
	return map[string]string{harness.WALFiles: "member/wal/*.wal", harness.SnapFiles: "member/snap/*.snap"}
}

// PeerURL is http://<n's IP>:2380.
func (Target) PeerURL(n harness.Node) string { return peerURL(n) }

// FailingLogLines are etcd's lines of a member that found its data
// inconsistent with its peers' (the corruption checks), beside the common
// panic and fatal lines.
func (Target) FailingLogLines() []string {
	return []string{`"msg":"found data inconsistency with peers"`, `"msg":"checkInitialHashKV failed"`}
}

func clientURL(n harness.Node) string { return fmt.Sprintf("http://%s:%d", n.IP, ClientPort) }
func peerURL(n harness.Node) string   { return fmt.Sprintf("http://%s:%d", n.IP, PeerPort) }

func millis(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
