package kvnode

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	var out bytes.Buffer
	cfg, err := ParseFlags([]string{
		"--name", "n2",
		"--data-dir", "/var/lib/kvnode",
		"--listen-client-urls", "http://0.0.0.0:2379",
		"--advertise-client-urls", "http://10.0.0.3:2379",
		"--listen-peer-urls", "http://0.0.0.0:2380",
		"--initial-advertise-peer-urls", "http://10.0.0.3:2380",
		"--initial-cluster", "n1=http://10.0.0.2:2380,n2=http://10.0.0.3:2380,n3=http://10.0.0.4:2380",
		"--initial-cluster-state", "existing",
		"--initial-cluster-token", "faultline",
		"--heartbeat-interval", "50",
		"--election-timeout", "500",
		"--snapshot-count", "100",
		"--auto-compaction-mode", "revision",
		"--auto-compaction-retention", "500",
		"--experimental-watch-progress-notify-interval", "2s",
		"--bug", "early-ack",
	}, &out)
	require.NoError(t, err)
	require.Equal(t, "n2", cfg.Name)
	require.Equal(t, "/var/lib/kvnode", cfg.DataDir)
	require.Equal(t, []string{"http://0.0.0.0:2379"}, cfg.ListenClientURLs)
	require.Equal(t, []string{"http://10.0.0.3:2379"}, cfg.AdvertiseClientURLs)
	require.Equal(t, []string{"http://0.0.0.0:2380"}, cfg.ListenPeerURLs)
	require.Equal(t, []string{"http://10.0.0.3:2380"}, cfg.InitialAdvertisePeerURLs)
	require.Equal(t, ClusterStateExisting, cfg.InitialClusterState)
	require.Equal(t, "faultline", cfg.InitialClusterToken)
	require.Equal(t, 50*time.Millisecond, cfg.HeartbeatInterval)
	require.Equal(t, 500*time.Millisecond, cfg.ElectionTimeout)
	require.EqualValues(t, 100, cfg.SnapshotCount)
	require.Equal(t, BugEarlyAck, cfg.Bug)
	require.Equal(t, 6*time.Second, cfg.requestTimeout())
	require.EqualValues(t, 500, cfg.AutoCompactionRetention)
	require.Equal(t, 2*time.Second, cfg.WatchProgressNotifyInterval)
	require.EqualValues(t, 1, cfg.minLeaseTTL(), "1.5 election timeouts of 500 ms, rounded up")

	cfg, err = ParseFlags([]string{"--watch-progress-notify-interval", "50ms"}, &out)
	require.NoError(t, err)
	require.Equal(t, MinWatchProgressNotifyInterval, cfg.watchProgressInterval(), "raised to etcd's minimum")
	_, err = ParseFlags([]string{"--auto-compaction-mode", "periodic"}, &out)
	require.ErrorContains(t, err, "--auto-compaction-mode")
	_, err = ParseFlags([]string{"--auto-compaction-retention", "-1"}, &out)
	require.ErrorContains(t, err, "--auto-compaction-retention")
}

func TestParseFlagsDefaults(t *testing.T) {
	cfg, err := ParseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, BugNone, cfg.Bug, "bugs are off by default")
	require.Equal(t, 100*time.Millisecond, cfg.HeartbeatInterval)
	require.Equal(t, time.Second, cfg.ElectionTimeout)
	require.Equal(t, ClusterStateNew, cfg.InitialClusterState)
	require.EqualValues(t, 100000, cfg.AutoCompactionRetention)
	require.Equal(t, 10*time.Minute, cfg.WatchProgressNotifyInterval, "etcd's default")
	require.EqualValues(t, 2, cfg.minLeaseTTL(), "etcd's minimum TTL with a 1 s election timeout")
}

func TestParseBugMode(t *testing.T) {
	for in, want := range map[string]BugMode{
		"": BugNone, "none": BugNone,
		"stale-read": BugStaleRead, "early-ack": BugEarlyAck, "lost-restart": BugLostRestart,
		"watch-skip-after-restart": BugWatchSkipAfterRestart, "lease-follower-expiry": BugLeaseFollowerExpiry,
	} {
		got, err := ParseBugMode(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := ParseBugMode("stale_read")
	require.ErrorContains(t, err, "allowed: none, stale-read, early-ack, lost-restart")

	_, err = ParseFlags([]string{"--bug", "everything"}, &bytes.Buffer{})
	require.ErrorContains(t, err, "--bug")
	require.Equal(t, "KVNODE BUG MODE ENABLED: lost-restart", BugAnnouncement(BugLostRestart))
}
