package kvnode_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/faultline/faultline/kvnode"
)

// TestMemberAddJoinRemove grows a one-node cluster with MemberAdd and a node
// started with --initial-cluster-state existing, checks that the joiner takes
// the ID the cluster assigned and catches up, then removes it again.
func TestMemberAddJoinRemove(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	c.startAll()
	c.waitLeader()
	cli := c.client(0)
	_, err := cli.Put(c.ctx(), "x", "1")
	require.NoError(t, err)

	joinCfg := c.cfgs[0]
	joinCfg.Name = "n2"
	joinCfg.DataDir = t.TempDir()
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	joinCfg.ListenClientURLs, joinCfg.AdvertiseClientURLs = []string{clientURL}, []string{clientURL}
	joinCfg.ListenPeerURLs, joinCfg.InitialAdvertisePeerURLs = []string{peerURL}, []string{peerURL}
	joinCfg.InitialCluster = c.cfgs[0].InitialCluster + ",n2=" + peerURL
	joinCfg.InitialClusterState = kvnode.ClusterStateExisting
	joinCfg.Logger = newTestLogger(c.logs).With(zap.String("node", "n2"))

	added, err := cli.MemberAdd(c.ctx(), []string{peerURL})
	require.NoError(t, err)
	require.Len(t, added.Members, 2)
	_, err = cli.MemberAdd(c.ctx(), []string{peerURL})
	require.Error(t, err, "a peer URL can be added only once")

	joiner, err := kvnode.Start(joinCfg)
	require.NoError(t, err)
	defer joiner.Stop()
	require.Equal(t, added.Member.ID, joiner.MemberID(), "the joiner takes the ID MemberAdd assigned")
	require.Equal(t, c.servers[0].ClusterID(), joiner.ClusterID())

	joinerCli, err := clientv3.New(clientv3.Config{Endpoints: []string{clientURL}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	defer joinerCli.Close()
	require.Eventually(t, func() bool {
		r, err := joinerCli.Get(c.ctx(), "x", clientv3.WithSerializable())
		return err == nil && len(r.Kvs) == 1 && string(r.Kvs[0].Value) == "1"
	}, 10*time.Second, 50*time.Millisecond, "the joiner does not catch up")
	require.Eventually(t, func() bool {
		list, err := cli.MemberList(c.ctx())
		return err == nil && len(list.Members) == 2 && list.Members[0].Name != "" && list.Members[1].Name != ""
	}, 10*time.Second, 50*time.Millisecond, "the joiner does not publish its name")

	// Writes now need both members, and reach the joiner.
	_, err = cli.Put(c.ctx(), "y", "2")
	require.NoError(t, err)
	r, err := joinerCli.Get(c.ctx(), "y")
	require.NoError(t, err)
	require.Len(t, r.Kvs, 1)

	removed, err := cli.MemberRemove(c.ctx(), joiner.MemberID())
	require.NoError(t, err)
	require.Len(t, removed.Members, 1)
	select {
	case <-joiner.Done():
		require.True(t, errors.Is(joiner.Err(), kvnode.ErrRemoved), "stopped with %v", joiner.Err())
	case <-time.After(10 * time.Second):
		t.Fatal("the removed member does not stop")
	}
	_, err = cli.Put(c.ctx(), "z", "3")
	require.NoError(t, err, "the remaining member alone is a quorum again")
}
