package kvnode

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/faultline/faultline/kvnode/membership"
)

// Cluster states accepted by --initial-cluster-state.
const (
	// ClusterStateNew bootstraps a new cluster from --initial-cluster.
	ClusterStateNew = "new"
	// ClusterStateExisting joins a running cluster that already added this
	// member with MemberAdd.
	ClusterStateExisting = "existing"
)

// Config is everything a node needs to start. Field names follow etcd's
// flags. Start validates it.
type Config struct {
	// Name is this member's human-readable name (--name); it must appear in
	// InitialCluster.
	Name string
	// DataDir holds the WAL and snapshots, under member/wal and member/snap.
	DataDir string
	// ListenClientURLs are the http:// URLs the gRPC API listens on.
	ListenClientURLs []string
	// AdvertiseClientURLs are the client URLs published to the cluster.
	AdvertiseClientURLs []string
	// ListenPeerURLs are the http:// URLs the raft transport listens on.
	ListenPeerURLs []string
	// InitialAdvertisePeerURLs are the peer URLs other members use; they must
	// match this member's entry in InitialCluster.
	InitialAdvertisePeerURLs []string
	// InitialCluster is "name=peer-url,..." for every member (--initial-cluster).
	InitialCluster string
	// InitialClusterState is ClusterStateNew or ClusterStateExisting.
	InitialClusterState string
	// InitialClusterToken keeps member and cluster IDs of different clusters
	// apart.
	InitialClusterToken string
	// HeartbeatInterval is the raft tick; the leader sends a heartbeat every tick.
	HeartbeatInterval time.Duration
	// ElectionTimeout is how long a follower waits for the leader before it
	// campaigns; it must be at least five heartbeats, as in etcd.
	ElectionTimeout time.Duration
	// SnapshotCount is the number of applied entries between snapshots.
	SnapshotCount uint64
	// AutoCompactionRetention is how many revisions of history the leader
	// keeps: when the history grows past it by a tenth, the leader proposes
	// a compaction to the current revision minus the retention (etcd's
	// --auto-compaction-mode revision). Zero disables auto-compaction, and
	// the history then grows without bound.
	AutoCompactionRetention int64
	// WatchProgressNotifyInterval is how often a watcher that asked for
	// progress notifications and got no events is sent one (etcd's
	// --watch-progress-notify-interval). Values below
	// MinWatchProgressNotifyInterval are raised to it.
	WatchProgressNotifyInterval time.Duration
	// Bug selects a deliberate bug; BugNone by default.
	Bug BugMode
	// RequestTimeout bounds how long a request waits for raft. Zero means
	// etcd's default: 5 s plus two election timeouts.
	RequestTimeout time.Duration
	// Logger receives the node's logs; nil discards them.
	Logger *zap.Logger
}

// DefaultConfig returns etcd's defaults for a single local member.
func DefaultConfig() Config {
	return Config{
		Name:                        "default",
		DataDir:                     "default.kvnode",
		ListenClientURLs:            []string{"http://localhost:2379"},
		AdvertiseClientURLs:         []string{"http://localhost:2379"},
		ListenPeerURLs:              []string{"http://localhost:2380"},
		InitialAdvertisePeerURLs:    []string{"http://localhost:2380"},
		InitialCluster:              "default=http://localhost:2380",
		InitialClusterState:         ClusterStateNew,
		InitialClusterToken:         "etcd-cluster",
		HeartbeatInterval:           100 * time.Millisecond,
		ElectionTimeout:             1000 * time.Millisecond,
		SnapshotCount:               10000,
		AutoCompactionRetention:     DefaultAutoCompactionRetention,
		WatchProgressNotifyInterval: DefaultWatchProgressNotifyInterval,
	}
}

// Defaults and bounds of the history and watch settings.
const (
	// DefaultAutoCompactionRetention keeps the last 100000 revisions: a
	// few tens of megabytes of small values, and more than a default
	// faultline run writes, so that its watch workload, which watches from
	// revision 1, never meets a compaction.
	DefaultAutoCompactionRetention = 100000
	// DefaultWatchProgressNotifyInterval is etcd's default, ten minutes.
	DefaultWatchProgressNotifyInterval = 10 * time.Minute
	// MinWatchProgressNotifyInterval is etcd's lower bound.
	MinWatchProgressNotifyInterval = 100 * time.Millisecond
)

// validate says precisely which setting is wrong, naming the flag.
func (c *Config) validate() error {
	if c.Name == "" {
		return errors.New("--name must not be empty")
	}
	if c.DataDir == "" {
		return errors.New("--data-dir must not be empty")
	}
	for _, f := range []struct {
		flag string
		urls []string
	}{
		{"--listen-client-urls", c.ListenClientURLs},
		{"--advertise-client-urls", c.AdvertiseClientURLs},
		{"--listen-peer-urls", c.ListenPeerURLs},
		{"--initial-advertise-peer-urls", c.InitialAdvertisePeerURLs},
	} {
		if err := validateURLs(f.urls); err != nil {
			return fmt.Errorf("%s: %w", f.flag, err)
		}
	}
	if c.InitialClusterState != ClusterStateNew && c.InitialClusterState != ClusterStateExisting {
		return fmt.Errorf("--initial-cluster-state must be %q or %q, not %q",
			ClusterStateNew, ClusterStateExisting, c.InitialClusterState)
	}
	if c.InitialClusterToken == "" {
		return errors.New("--initial-cluster-token must not be empty")
	}
	members, err := membership.ParseInitialCluster(c.InitialCluster, c.InitialClusterToken)
	if err != nil {
		return fmt.Errorf("--initial-cluster: %w", err)
	}
	self := slices.IndexFunc(members, func(m membership.Member) bool { return m.Name == c.Name })
	if self < 0 {
		return fmt.Errorf("--initial-cluster has no member named %q (--name)", c.Name)
	}
	if !members[self].HasPeerURLs(c.InitialAdvertisePeerURLs) {
		return fmt.Errorf("--initial-cluster gives %s the peer URLs %v but --initial-advertise-peer-urls is %v",
			c.Name, members[self].PeerURLs, c.InitialAdvertisePeerURLs)
	}
	if c.InitialClusterState == ClusterStateExisting && len(members) < 2 {
		return errors.New("--initial-cluster-state existing needs at least one other member in --initial-cluster to join through")
	}
	if c.HeartbeatInterval <= 0 {
		return errors.New("--heartbeat-interval must be positive")
	}
	if c.ElectionTimeout < 5*c.HeartbeatInterval {
		return fmt.Errorf("--election-timeout (%v) must be at least 5 times --heartbeat-interval (%v)",
			c.ElectionTimeout, c.HeartbeatInterval)
	}
	if c.SnapshotCount == 0 {
		return errors.New("--snapshot-count must be positive")
	}
	if c.AutoCompactionRetention < 0 {
		return errors.New("--auto-compaction-retention must not be negative")
	}
	if c.WatchProgressNotifyInterval <= 0 {
		return errors.New("--watch-progress-notify-interval must be positive")
	}
	if _, err := ParseBugMode(string(c.Bug)); err != nil {
		return fmt.Errorf("--bug: %w", err)
	}
	if c.RequestTimeout < 0 {
		return errors.New("request timeout must not be negative")
	}
	return nil
}

// minLeaseTTL is the shortest TTL a lease is granted, in seconds: etcd's
// rule, one and a half election timeouts rounded up to a whole second, so
// that a lease outlives the election that follows a leader's failure.
func (c *Config) minLeaseTTL() int64 {
	return int64(math.Ceil((c.ElectionTimeout * 3 / 2).Seconds()))
}

// watchProgressInterval is WatchProgressNotifyInterval within etcd's bound.
func (c *Config) watchProgressInterval() time.Duration {
	return max(c.WatchProgressNotifyInterval, MinWatchProgressNotifyInterval)
}

// requestTimeout is the bound on one request's wait for raft.
func (c *Config) requestTimeout() time.Duration {
	if c.RequestTimeout > 0 {
		return c.RequestTimeout
	}
	return 5*time.Second + 2*c.ElectionTimeout
}

// validateURLs accepts a non-empty list of plain http URLs with a host.
func validateURLs(urls []string) error {
	if len(urls) == 0 {
		return errors.New("at least one URL is required")
	}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			return fmt.Errorf("parse %q: %w", raw, err)
		}
		if u.Scheme != "http" {
			return fmt.Errorf("%q: only http:// URLs are supported (kvnode has no TLS)", raw)
		}
		if u.Host == "" || u.Port() == "" {
			return fmt.Errorf("%q: host and port are required", raw)
		}
		if u.Path != "" && u.Path != "/" {
			return fmt.Errorf("%q: a path is not allowed", raw)
		}
	}
	return nil
}
