// Package customtarget shows how to test a store of one's own with
// faultline, from outside faultline's packages: describe it as a
// targets.Custom (where its executable is, its command line on each node,
// its ports and paths), hand it to faultline.Run in EnvOptions.Targets,
// and name it in the Spec. Its test builds faultline's own kvnode as the
// "user's" store, since it speaks etcd's v3 API like any store faultline
// tests, and runs a short partitioned register test against it.
package customtarget

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
)

// Target describes a kvnode-compatible store whose static Linux
// executable is at binary on the host, as a user would describe their
// own: every node runs `mykv` with its name, data directory, URLs and the
// initial cluster.
func Target(binary string) targets.Custom {
	return targets.Custom{
		TargetName: "mykv",
		Binary:     binary,
		Process:    "mykv",
		Port:       2379,
		PeerPort:   2380,
		Data:       "/var/lib/mykv",
		Election:   time.Second,
		Serves:     []harness.API{harness.APITxn},
		Calls:      []string{targets.CallCompact},
		Args: func(n harness.Node, all []harness.Node, state targets.ClusterState) []string {
			peers := make([]string, len(all))
			for i, m := range all {
				peers[i] = fmt.Sprintf("%s=http://%s:2380", m.Name, m.IP)
			}
			return []string{
				"--name", n.Name,
				"--data-dir", "/var/lib/mykv",
				"--listen-client-urls", "http://0.0.0.0:2379",
				"--advertise-client-urls", fmt.Sprintf("http://%s:2379", n.IP),
				"--listen-peer-urls", "http://0.0.0.0:2380",
				"--initial-advertise-peer-urls", fmt.Sprintf("http://%s:2380", n.IP),
				"--initial-cluster", strings.Join(peers, ","),
				"--initial-cluster-state", state.String(),
				"--initial-cluster-token", "mykv",
				"--heartbeat-interval", "100",
				"--election-timeout", "1000",
			}
		},
	}
}
