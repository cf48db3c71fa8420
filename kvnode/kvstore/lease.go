package kvstore

import (
	"sort"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// MaxLeaseTTL is the largest TTL a lease may be granted, etcd's limit.
const MaxLeaseTTL = 9000000000

// leaseRecord is the replicated part of a lease: its granted TTL and the
// keys attached to it. The keys follow the records (set and remove keep them
// in step), so a rolled-back request leaves them as they were.
type leaseRecord struct {
	ttl  int64
	keys map[string]struct{}
}

func (l *leaseRecord) clone() *leaseRecord {
	c := &leaseRecord{ttl: l.ttl, keys: make(map[string]struct{}, len(l.keys))}
	for k := range l.keys {
		c.keys[k] = struct{}{}
	}
	return c
}

// sortedKeys returns the attached keys in ascending order.
func (l *leaseRecord) sortedKeys() []string {
	keys := make([]string, 0, len(l.keys))
	for k := range l.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *Store) attach(id int64, key string) {
	if l := s.leases[id]; id != 0 && l != nil {
		l.keys[key] = struct{}{}
	}
}

func (s *Store) detach(id int64, key string) {
	if l := s.leases[id]; id != 0 && l != nil {
		delete(l.keys, key)
	}
}

// LeaseGrant creates a lease, as etcd's lessor does when it applies a
// LeaseGrantRequest. The ID must be chosen by the proposer (the server picks
// one when the client did not) and the TTL already raised to the minimum
// TTL, so that every replica grants the same lease. Granting changes no key
// and leaves the revision alone.
func (s *Store) LeaseGrant(req *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	switch {
	case req.GetID() == 0:
		return nil, rpctypes.ErrGRPCLeaseNotFound
	case req.GetTTL() > MaxLeaseTTL:
		return nil, rpctypes.ErrGRPCLeaseTTLTooLarge
	case s.leases[req.GetID()] != nil:
		return nil, rpctypes.ErrGRPCLeaseExist
	}
	s.leases[req.GetID()] = &leaseRecord{ttl: req.GetTTL(), keys: make(map[string]struct{})}
	return &pb.LeaseGrantResponse{
		Header: &pb.ResponseHeader{Revision: s.revision},
		ID:     req.GetID(),
		TTL:    req.GetTTL(),
	}, nil
}

// LeaseRevoke deletes a lease and every key attached to it. As in etcd, the
// deletes are one revision, in key order; a lease without keys is revoked
// without a new revision.
func (s *Store) LeaseRevoke(req *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	l := s.leases[req.GetID()]
	if l == nil {
		return nil, rpctypes.ErrGRPCLeaseNotFound
	}
	w := s.beginWrite()
	for _, key := range l.sortedKeys() {
		w.remember(key)
		s.remove(key)
		w.changed = true
	}
	delete(s.leases, req.GetID())
	return &pb.LeaseRevokeResponse{Header: &pb.ResponseHeader{Revision: w.commit()}}, nil
}

// Lease returns the granted TTL of lease id and its keys in ascending order,
// or ok false when no such lease exists.
func (s *Store) Lease(id int64) (ttl int64, keys []string, ok bool) {
	l := s.leases[id]
	if l == nil {
		return 0, nil, false
	}
	return l.ttl, l.sortedKeys(), true
}

// LeaseTTLs returns the granted TTL of every lease, by ID.
func (s *Store) LeaseTTLs() map[int64]int64 {
	out := make(map[int64]int64, len(s.leases))
	for id, l := range s.leases {
		out[id] = l.ttl
	}
	return out
}

// LeaseIDs returns the ID of every lease in ascending order.
func (s *Store) LeaseIDs() []int64 {
	ids := make([]int64, 0, len(s.leases))
	for id := range s.leases {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
