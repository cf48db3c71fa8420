package membership

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseInitialCluster(t *testing.T) {
	members, err := ParseInitialCluster("n1=http://10.0.0.2:2380,n2=http://10.0.0.3:2380,n1=http://10.0.1.2:2380", "tok")
	require.NoError(t, err)
	require.Len(t, members, 2)
	require.Equal(t, "n1", members[0].Name)
	require.Equal(t, []string{"http://10.0.0.2:2380", "http://10.0.1.2:2380"}, members[0].PeerURLs)
	require.Equal(t, ComputeMemberID([]string{"http://10.0.1.2:2380", "http://10.0.0.2:2380"}, "tok", nil), members[0].ID,
		"the ID does not depend on URL order")

	for _, bad := range []string{"", "n1", "n1=", "=http://a:1", "n1=10.0.0.2:2380", "n1=http://a:1,n2=http://a:1"} {
		_, err := ParseInitialCluster(bad, "tok")
		require.Error(t, err, "spec %q", bad)
	}
}

func TestMemberIDs(t *testing.T) {
	urls := []string{"http://10.0.0.2:2380"}
	a := ComputeMemberID(urls, "tok", nil)
	require.Equal(t, a, ComputeMemberID(urls, "tok", nil), "deterministic")
	require.NotEqual(t, a, ComputeMemberID(urls, "other", nil), "the token matters")
	now := time.Unix(100, 5)
	added := ComputeMemberID(urls, "tok", &now)
	require.NotEqual(t, a, added, "a re-added member gets a fresh ID")
	later := now.Add(time.Nanosecond)
	require.NotEqual(t, added, ComputeMemberID(urls, "tok", &later))

	require.Equal(t, ComputeClusterID([]uint64{1, 2, 3}), ComputeClusterID([]uint64{3, 1, 2}))
	require.NotEqual(t, ComputeClusterID([]uint64{1, 2, 3}), ComputeClusterID([]uint64{1, 2}))
}

func TestClusterChanges(t *testing.T) {
	c := NewCluster()
	m1 := Member{ID: 1, Name: "n1", PeerURLs: []string{"http://a:1"}}
	m2 := Member{ID: 2, PeerURLs: []string{"http://b:1"}}
	require.NoError(t, c.Add(m1))
	require.NoError(t, c.Add(m2))

	require.ErrorIs(t, c.Add(m1), ErrIDExists)
	require.ErrorIs(t, c.Add(Member{ID: 3, PeerURLs: []string{"http://a:1"}}), ErrPeerURLExists)
	require.ErrorIs(t, c.Remove(9), ErrIDNotFound)

	require.True(t, c.SetAttributes(2, "n2", []string{"http://b:2"}))
	require.False(t, c.SetAttributes(9, "x", nil))
	got, ok := c.Member(2)
	require.True(t, ok)
	require.Equal(t, "n2", got.Name)

	require.NoError(t, c.Remove(1))
	require.True(t, c.IsRemoved(1))
	require.ErrorIs(t, c.Remove(1), ErrIDRemoved)
	require.ErrorIs(t, c.Add(m1), ErrIDRemoved, "a removed ID never comes back")
	require.NoError(t, c.Add(Member{ID: 4, PeerURLs: []string{"http://a:1"}}), "its URLs are free again")

	data, err := json.Marshal(c)
	require.NoError(t, err)
	restored := NewCluster()
	require.NoError(t, json.Unmarshal(data, restored))
	require.Equal(t, c.Members(), restored.Members())
	require.True(t, restored.IsRemoved(1))
	again, err := json.Marshal(restored)
	require.NoError(t, err)
	require.JSONEq(t, string(data), string(again))

	clone := c.Clone()
	require.NoError(t, clone.Remove(2))
	_, ok = c.Member(2)
	require.True(t, ok, "the clone is independent")
}
