package etcd

import (
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
)

func flagValue(t *testing.T, argv []string, flag string) string {
	t.Helper()
	for i, a := range argv {
		if a == flag && i+1 < len(argv) {
			return argv[i+1]
		}
	}
	t.Fatalf("no %s in %q", flag, argv)
	return ""
}

func TestCommand(t *testing.T) {
	all := []harness.Node{
		{Name: "n1", IP: "10.240.3.2"},
		{Name: "n2", IP: "10.240.3.3"},
		{Name: "n3", IP: "10.240.3.4"},
	}
	argv := Target{}.Command(all[1], all, targets.New)
	require.Equal(t, "/opt/etcd/"+DefaultVersion+"/etcd", argv[0], "each build lies in a directory of its own")
	require.Equal(t, "n2", flagValue(t, argv, "--name"))
	require.Equal(t, "/var/lib/etcd", flagValue(t, argv, "--data-dir"))
	require.Equal(t, "http://0.0.0.0:2379", flagValue(t, argv, "--listen-client-urls"))
	require.Equal(t, "http://10.240.3.3:2379", flagValue(t, argv, "--advertise-client-urls"))
	require.Equal(t, "http://0.0.0.0:2380", flagValue(t, argv, "--listen-peer-urls"))
	require.Equal(t, "http://10.240.3.3:2380", flagValue(t, argv, "--initial-advertise-peer-urls"))
	require.Equal(t, "n1=http://10.240.3.2:2380,n2=http://10.240.3.3:2380,n3=http://10.240.3.4:2380", flagValue(t, argv, "--initial-cluster"))
	require.Equal(t, "new", flagValue(t, argv, "--initial-cluster-state"))
	require.Equal(t, "100", flagValue(t, argv, "--heartbeat-interval"))
	require.Equal(t, "1000", flagValue(t, argv, "--election-timeout"))
	require.Equal(t, "1s", flagValue(t, argv, "--watch-progress-notify-interval"))
	require.Equal(t, "zap", flagValue(t, argv, "--logger"))
	require.Equal(t, "info", flagValue(t, argv, "--log-level"))

	argv = Target{}.Command(all[0], all, targets.Existing)
	require.Equal(t, "existing", flagValue(t, argv, "--initial-cluster-state"))
	require.Equal(t, Target{}.ProcessName(), path.Base(argv[0]), "pkill -x must match the process the command starts")
	old := all[0]
	old.Version = "v3.5.15"
	argv = Target{Versions: []string{"v3.5.15"}}.Command(old, all, targets.New)
	require.Equal(t, "1s", flagValue(t, argv, "--experimental-watch-progress-notify-interval"), "v3.5 knows the flag as experimental")
	require.NotContains(t, argv, "--watch-progress-notify-interval", "and refuses the name of v3.6 on")
	own := all[0]
	own.Version = CustomBuild
	require.NotContains(t, strings.Join(Target{Binary: "/x/etcd"}.Command(own, all, targets.New), " "), "progress-notify", "a binary of unknown release gets neither")
	require.LessOrEqual(t, len(Target{}.ProcessName()), 15, "comm is cut at 15 bytes")
	require.True(t, strings.HasPrefix(Target{}.LogPath(), "/"))
}

func TestTimingIsConsistent(t *testing.T) {
	// etcd requires an election timeout of at least 5 heartbeats.
	require.GreaterOrEqual(t, ElectionTimeout, 5*HeartbeatInterval)
}

// TestFailpointNamesAreCheckedAgainstTheRelease: a name the release's
// sources have passes, one they lack is refused naming what they have.
func TestFailpointNamesAreCheckedAgainstTheRelease(t *testing.T) {
	tg := Target{Failpoints: true}
	require.NoError(t, tg.CheckFailpoints(t.Context(), []string{"raftBeforeSave", "defragBeforeRename"}), "needs the go command and the module cache")
	err := tg.CheckFailpoints(t.Context(), []string{"raftBeforeSave", "noSuchPoint"})
	require.ErrorContains(t, err, "etcd v3.7.3 has no failpoint noSuchPoint; it has ")
	require.ErrorContains(t, err, "raftAfterSave")
	require.NoError(t, Target{Binary: "/x/etcd"}.CheckFailpoints(t.Context(), []string{"noSuchPoint"}), "a binary of one's own is not checked")
}
