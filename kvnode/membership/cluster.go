package membership

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Errors returned by the Cluster's checks. The server maps them to etcd's
// gRPC errors.
var (
	// ErrIDExists means a member with this ID is already in the cluster.
	ErrIDExists = errors.New("membership: ID exists")
	// ErrIDRemoved means this ID was removed and may never come back.
	ErrIDRemoved = errors.New("membership: ID removed")
	// ErrIDNotFound means no current member has this ID.
	ErrIDNotFound = errors.New("membership: member not found")
	// ErrPeerURLExists means another member already uses one of the peer URLs.
	ErrPeerURLExists = errors.New("membership: peer URL exists")
)

// Cluster is the set of current members plus the IDs ever removed. The zero
// value is not usable; call NewCluster. Not safe for concurrent use.
type Cluster struct {
	members map[uint64]Member
	removed map[uint64]bool
}

// NewCluster returns a cluster without members.
func NewCluster() *Cluster {
	return &Cluster{members: make(map[uint64]Member), removed: make(map[uint64]bool)}
}

// Members returns copies of the current members, sorted by ID.
func (c *Cluster) Members() []Member {
	out := make([]Member, 0, len(c.members))
	for _, m := range c.members {
		out = append(out, m.Clone())
	}
	slices.SortFunc(out, func(a, b Member) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// Member returns a copy of the member with id.
func (c *Cluster) Member(id uint64) (Member, bool) {
	m, ok := c.members[id]
	return m.Clone(), ok
}

// IsRemoved reports whether id was removed from the cluster.
func (c *Cluster) IsRemoved(id uint64) bool { return c.removed[id] }

// ValidateAdd reports why m cannot be added, or nil.
func (c *Cluster) ValidateAdd(m Member) error {
	if c.removed[m.ID] {
		return fmt.Errorf("add %x: %w", m.ID, ErrIDRemoved)
	}
	if _, ok := c.members[m.ID]; ok {
		return fmt.Errorf("add %x: %w", m.ID, ErrIDExists)
	}
	for _, other := range c.members {
		for _, u := range m.PeerURLs {
			if slices.Contains(other.PeerURLs, u) {
				return fmt.Errorf("add %x: %s is used by %x: %w", m.ID, u, other.ID, ErrPeerURLExists)
			}
		}
	}
	return nil
}

// Add adds m if ValidateAdd allows it.
func (c *Cluster) Add(m Member) error {
	if err := c.ValidateAdd(m); err != nil {
		return err
	}
	c.members[m.ID] = m.Clone()
	return nil
}

// ValidateRemove reports why id cannot be removed, or nil.
func (c *Cluster) ValidateRemove(id uint64) error {
	if c.removed[id] {
		return fmt.Errorf("remove %x: %w", id, ErrIDRemoved)
	}
	if _, ok := c.members[id]; !ok {
		return fmt.Errorf("remove %x: %w", id, ErrIDNotFound)
	}
	return nil
}

// Remove removes the member id for good, if ValidateRemove allows it.
func (c *Cluster) Remove(id uint64) error {
	if err := c.ValidateRemove(id); err != nil {
		return err
	}
	delete(c.members, id)
	c.removed[id] = true
	return nil
}

// SetAttributes records the name and client URLs a member published. It
// reports whether the member exists.
func (c *Cluster) SetAttributes(id uint64, name string, clientURLs []string) bool {
	m, ok := c.members[id]
	if !ok {
		return false
	}
	m.Name = name
	m.ClientURLs = slices.Clone(clientURLs)
	c.members[id] = m
	return true
}

// Clone returns a deep copy of c.
func (c *Cluster) Clone() *Cluster {
	out := NewCluster()
	for id, m := range c.members {
		out.members[id] = m.Clone()
	}
	for id := range c.removed {
		out.removed[id] = true
	}
	return out
}

// clusterImage is the serialized form of a Cluster.
type clusterImage struct {
	Members []Member `json:"members"`
	Removed []uint64 `json:"removed"`
}

// MarshalJSON serializes the cluster deterministically.
func (c *Cluster) MarshalJSON() ([]byte, error) {
	img := clusterImage{Members: c.Members(), Removed: make([]uint64, 0, len(c.removed))}
	for id := range c.removed {
		img.Removed = append(img.Removed, id)
	}
	slices.Sort(img.Removed)
	return json.Marshal(img)
}

// UnmarshalJSON restores a cluster serialized by MarshalJSON.
func (c *Cluster) UnmarshalJSON(data []byte) error {
	var img clusterImage
	if err := json.Unmarshal(data, &img); err != nil {
		return fmt.Errorf("unmarshal cluster: %w", err)
	}
	*c = *NewCluster()
	for _, m := range img.Members {
		c.members[m.ID] = m
	}
	for _, id := range img.Removed {
		c.removed[id] = true
	}
	return nil
}
