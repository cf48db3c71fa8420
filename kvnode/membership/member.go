// Package membership is the replicated view of who belongs to a kvnode
// cluster: member IDs, names and URLs, and the IDs that were removed.
//
// Like kvstore it is pure. It changes only when the raft layer applies a
// committed configuration change or attribute update, so every replica holds
// the same view at the same log index.
//
// # Member IDs
//
// IDs are derived the way etcd derives them, so that a kvnode cluster and an
// etcd cluster started with the same flags have the same member IDs:
//
//   - an initial member's ID is the first 8 bytes (big endian) of the SHA-1
//     of its sorted peer URLs, concatenated, followed by the cluster token;
//   - a member added at run time (MemberAdd) also mixes in the time of the
//     request, so that removing a member and adding it back with the same
//     URLs gives a new ID. Raft must never see one ID come back with an empty
//     log, or the reborn node could vote twice in a term it already voted in.
//
// A node started with --initial-cluster-state existing therefore cannot
// compute its own ID. It asks the running members (GET /members on a peer
// URL) and takes the ID of the member whose peer URLs are its own, as etcd
// does. The cluster ID is the SHA-1 of the initial member IDs (sorted, 8 bytes
// each, big endian), also as in etcd; a joining node learns it the same way.
package membership

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Member is one member of the cluster.
type Member struct {
	// ID is the raft node ID, also reported as member_id in responses.
	ID uint64 `json:"id"`
	// Name is the --name the member started with; empty until it has
	// published its attributes.
	Name string `json:"name,omitempty"`
	// PeerURLs are the URLs other members reach it on.
	PeerURLs []string `json:"peer_urls"`
	// ClientURLs are the URLs clients reach it on; empty until published.
	ClientURLs []string `json:"client_urls,omitempty"`
}

// Clone returns a deep copy of m.
func (m Member) Clone() Member {
	m.PeerURLs = slices.Clone(m.PeerURLs)
	m.ClientURLs = slices.Clone(m.ClientURLs)
	return m
}

// HasPeerURLs reports whether m's peer URLs are exactly urls, in any order.
func (m Member) HasPeerURLs(urls []string) bool {
	a, b := slices.Clone(m.PeerURLs), slices.Clone(urls)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// ComputeMemberID derives a member ID from its peer URLs and the cluster
// token. addedAt is nil for initial members and the time of the request for
// members added at run time (see the package documentation).
func ComputeMemberID(peerURLs []string, token string, addedAt *time.Time) uint64 {
	urls := slices.Clone(peerURLs)
	slices.Sort(urls)
	b := []byte(strings.Join(urls, ""))
	b = append(b, token...)
	if addedAt != nil {
		b = append(b, fmt.Sprintf("%d", addedAt.UnixNano())...)
	}
	sum := sha1.Sum(b)
	return binary.BigEndian.Uint64(sum[:8])
}

// ComputeClusterID derives the cluster ID from the initial member IDs.
func ComputeClusterID(memberIDs []uint64) uint64 {
	ids := slices.Clone(memberIDs)
	slices.Sort(ids)
	b := make([]byte, 8*len(ids))
	for i, id := range ids {
		binary.BigEndian.PutUint64(b[8*i:], id)
	}
	sum := sha1.Sum(b)
	return binary.BigEndian.Uint64(sum[:8])
}

// ParseInitialCluster reads an --initial-cluster value such as
// "n1=http://10.0.0.2:2380,n2=http://10.0.0.3:2380" into members with their
// IDs computed from token. A name may repeat to give a member several peer
// URLs. Members come back in the order their names first appear.
func ParseInitialCluster(spec, token string) ([]Member, error) {
	var order []string
	urls := make(map[string][]string)
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, url, ok := strings.Cut(part, "=")
		if !ok || name == "" || url == "" {
			return nil, fmt.Errorf("%q is not name=peer-url", part)
		}
		if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
			return nil, fmt.Errorf("peer URL %q of %s must start with http:// or https://", url, name)
		}
		if _, seen := urls[name]; !seen {
			order = append(order, name)
		}
		urls[name] = append(urls[name], url)
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("no members in %q", spec)
	}
	members := make([]Member, 0, len(order))
	seenURL := make(map[string]string)
	for _, name := range order {
		for _, u := range urls[name] {
			if other, dup := seenURL[u]; dup {
				return nil, fmt.Errorf("peer URL %s is given to both %s and %s", u, other, name)
			}
			seenURL[u] = name
		}
		members = append(members, Member{
			ID:       ComputeMemberID(urls[name], token, nil),
			Name:     name,
			PeerURLs: urls[name],
		})
	}
	return members, nil
}
