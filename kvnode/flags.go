package kvnode

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrHelp is returned by ParseFlags when -h or --help was asked for; the
// usage has then been printed.
var ErrHelp = flag.ErrHelp

// ParseFlags reads etcd-style command-line flags into a validated Config.
// Go's flag package accepts both --flag and -flag. Usage and flag errors go to
// output. Every error names the flag at fault.
func ParseFlags(args []string, output io.Writer) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("kvnode", flag.ContinueOnError)
	fs.SetOutput(output)

	fs.StringVar(&cfg.Name, "name", cfg.Name, "human-readable name of this member")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the WAL and snapshots")
	listenClient := fs.String("listen-client-urls", strings.Join(cfg.ListenClientURLs, ","), "comma-separated URLs to serve clients (gRPC) on")
	advertiseClient := fs.String("advertise-client-urls", strings.Join(cfg.AdvertiseClientURLs, ","), "comma-separated client URLs published to the cluster")
	listenPeer := fs.String("listen-peer-urls", strings.Join(cfg.ListenPeerURLs, ","), "comma-separated URLs to serve raft peers on")
	advertisePeer := fs.String("initial-advertise-peer-urls", strings.Join(cfg.InitialAdvertisePeerURLs, ","), "comma-separated peer URLs of this member")
	fs.StringVar(&cfg.InitialCluster, "initial-cluster", cfg.InitialCluster, "every member as name=peer-url, comma-separated")
	fs.StringVar(&cfg.InitialClusterState, "initial-cluster-state", cfg.InitialClusterState, "new (bootstrap) or existing (join after MemberAdd)")
	fs.StringVar(&cfg.InitialClusterToken, "initial-cluster-token", cfg.InitialClusterToken, "token that keeps IDs of different clusters apart")
	heartbeatMs := fs.Int("heartbeat-interval", int(cfg.HeartbeatInterval/time.Millisecond), "raft heartbeat interval in milliseconds")
	electionMs := fs.Int("election-timeout", int(cfg.ElectionTimeout/time.Millisecond), "raft election timeout in milliseconds")
	fs.Uint64Var(&cfg.SnapshotCount, "snapshot-count", cfg.SnapshotCount, "applied entries between snapshots")
	compactionMode := fs.String("auto-compaction-mode", "revision", "how --auto-compaction-retention is read; only revision (a number of revisions) is supported")
	fs.Int64Var(&cfg.AutoCompactionRetention, "auto-compaction-retention", cfg.AutoCompactionRetention, "revisions of history to keep; 0 keeps all")
	for _, name := range []string{"watch-progress-notify-interval", "experimental-watch-progress-notify-interval"} {
		fs.DurationVar(&cfg.WatchProgressNotifyInterval, name, cfg.WatchProgressNotifyInterval, "period of progress notifications to watchers that ask for them (at least 100ms)")
	}
	bug := fs.String("bug", "none", "deliberate bug for harness self-tests: none, "+bugModeList())

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, ErrHelp
		}
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q: kvnode takes flags only", fs.Arg(0))
	}

	if *compactionMode != "revision" {
		return Config{}, fmt.Errorf("--auto-compaction-mode: %q is not supported (only revision)", *compactionMode)
	}
	cfg.ListenClientURLs = splitList(*listenClient)
	cfg.AdvertiseClientURLs = splitList(*advertiseClient)
	cfg.ListenPeerURLs = splitList(*listenPeer)
	cfg.InitialAdvertisePeerURLs = splitList(*advertisePeer)
	cfg.HeartbeatInterval = time.Duration(*heartbeatMs) * time.Millisecond
	cfg.ElectionTimeout = time.Duration(*electionMs) * time.Millisecond
	mode, err := ParseBugMode(*bug)
	if err != nil {
		return Config{}, fmt.Errorf("--bug: %w", err)
	}
	cfg.Bug = mode
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
