package kvnode

import (
	"encoding/json"
	"errors"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/faultline/faultline/kvnode/kvstore"
	"github.com/faultline/faultline/kvnode/membership"
)

// recentRequestWindow is how many applied request IDs the state machine
// remembers to drop duplicates. kvnode never proposes one request twice, so
// a duplicate could only come from a transport replaying a message; the
// window is a guard, sized far beyond the requests in flight at any time.
const recentRequestWindow = 4096

// applyResult is what applying one request produced, for the client waiting
// on it.
type applyResult struct {
	// response is the request's response (*pb.PutResponse,
	// *pb.LeaseGrantResponse, ...), or nil for a member attribute update.
	response proto.Message
	err      error
	// term is the raft term of the entry, for the response header.
	term uint64
}

// replicatedState is everything the raft log decides: the key-value store
// (with its history and leases), the membership, and the request IDs applied
// recently. It is deterministic:
// replicas applying the same entries hold equal states. Not safe for
// concurrent use; the server guards it.
type replicatedState struct {
	kv      *kvstore.Store
	members *membership.Cluster
	// recent holds the last recentRequestWindow request IDs in apply order;
	// recentSet indexes it.
	recent    []uint64
	recentSet map[uint64]bool
}

func newReplicatedState() *replicatedState {
	return &replicatedState{kv: kvstore.New(), members: membership.NewCluster(), recentSet: make(map[uint64]bool)}
}

// seen records id and reports whether it had been applied before.
func (st *replicatedState) seen(id uint64) bool {
	if st.recentSet[id] {
		return true
	}
	st.recent = append(st.recent, id)
	st.recentSet[id] = true
	if len(st.recent) > recentRequestWindow {
		delete(st.recentSet, st.recent[0])
		st.recent = st.recent[1:]
	}
	return false
}

// applyRequest applies one committed client request. duplicate is true when
// the request ID was applied before; the request then changes nothing.
func (st *replicatedState) applyRequest(req *pb.InternalRaftRequest) (res applyResult, duplicate bool) {
	if id := req.GetHeader().GetID(); id != 0 && st.seen(id) {
		return applyResult{}, true
	}
	switch {
	case req.GetPut() != nil:
		res.response, res.err = st.kv.Put(req.GetPut())
	case req.GetDeleteRange() != nil:
		res.response, res.err = st.kv.DeleteRange(req.GetDeleteRange())
	case req.GetTxn() != nil:
		res.response, res.err = st.kv.Txn(req.GetTxn())
	case req.GetCompaction() != nil:
		res.response, res.err = st.kv.Compact(req.GetCompaction())
	case req.GetLeaseGrant() != nil:
		res.response, res.err = st.kv.LeaseGrant(req.GetLeaseGrant())
	case req.GetLeaseRevoke() != nil:
		res.response, res.err = st.kv.LeaseRevoke(req.GetLeaseRevoke())
	case req.GetClusterMemberAttrSet() != nil:
		set := req.GetClusterMemberAttrSet()
		attrs := set.GetMemberAttributes()
		if !st.members.SetAttributes(set.GetMember_ID(), attrs.GetName(), attrs.GetClientUrls()) {
			res.err = fmt.Errorf("publish attributes of %x: %w", set.GetMember_ID(), membership.ErrIDNotFound)
		}
	default:
		res.err = errors.New("kvnode: unsupported request in raft log")
	}
	return res, false
}

// checkConfChange reports whether cc may be applied to the membership; a
// rejected change is still applied to raft, as a no-op (node ID zero), so
// that every replica steps over it the same way.
func (st *replicatedState) checkConfChange(cc *raftpb.ConfChange) (membership.Member, error) {
	switch cc.GetType() {
	case raftpb.ConfChangeAddNode:
		var m membership.Member
		if err := json.Unmarshal(cc.GetContext(), &m); err != nil {
			return m, fmt.Errorf("decode member of conf change: %w", err)
		}
		if m.ID != cc.GetNodeId() {
			return m, fmt.Errorf("conf change adds %x but its member is %x", cc.GetNodeId(), m.ID)
		}
		return m, st.members.ValidateAdd(m)
	case raftpb.ConfChangeRemoveNode:
		return membership.Member{}, st.members.ValidateRemove(cc.GetNodeId())
	default:
		return membership.Member{}, fmt.Errorf("conf change type %v is not supported", cc.GetType())
	}
}

// applyConfChange changes the membership after checkConfChange allowed it.
func (st *replicatedState) applyConfChange(cc *raftpb.ConfChange, m membership.Member) error {
	if cc.GetType() == raftpb.ConfChangeAddNode {
		return st.members.Add(m)
	}
	return st.members.Remove(cc.GetNodeId())
}

// stateImage is the snapshot form of a replicatedState.
type stateImage struct {
	KV      json.RawMessage     `json:"kv"`
	Members *membership.Cluster `json:"members"`
	Recent  []uint64            `json:"recent"`
}

func (st *replicatedState) marshal() ([]byte, error) {
	kv, err := st.kv.MarshalSnapshot()
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(stateImage{KV: kv, Members: st.members, Recent: st.recent})
	if err != nil {
		return nil, fmt.Errorf("marshal state: %w", err)
	}
	return data, nil
}

func unmarshalReplicatedState(data []byte) (*replicatedState, error) {
	img := stateImage{Members: membership.NewCluster()}
	if err := json.Unmarshal(data, &img); err != nil {
		return nil, fmt.Errorf("unmarshal state: %w", err)
	}
	kv, err := kvstore.RestoreSnapshot(img.KV)
	if err != nil {
		return nil, err
	}
	st := &replicatedState{kv: kv, members: img.Members, recentSet: make(map[uint64]bool)}
	for _, id := range img.Recent {
		st.seen(id)
	}
	return st, nil
}
