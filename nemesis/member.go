package nemesis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/faultline/faultline/harness"
)

// memberFault is the member kind: a member removed and wiped, later added
// back empty.
type memberFault struct{}

func (memberFault) start(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.removeMember(ctx, c, op)
}

func (memberFault) stop(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	return m.addMember(ctx, c, op)
}

// draw is not used: the schedule draws member steps itself, since they
// depend on the membership it tracks.
func (memberFault) draw(base faultValue, _ Options) any { return base }

func (memberFault) check(raw json.RawMessage, names []string) error {
	var v memberValue
	if err := decodeStrict(raw, &v); err != nil {
		return err
	}
	if !slices.Contains(names, v.Node) {
		return fmt.Errorf("node %q is not one of n1..n%d", v.Node, len(names))
	}
	return nil
}

// membershipOf returns c's membership powers, or a refusal.
func membershipOf(c harness.Cluster) (harness.Membership, error) {
	ms, ok := c.(harness.Membership)
	if !ok {
		return nil, refuse("this cluster cannot change its membership (it is no harness.Membership)")
	}
	return ms, nil
}

// memberNodeOf decodes a member step and finds its node.
func memberNodeOf(c harness.Cluster, op harness.Op) (harness.Node, error) {
	var v memberValue
	if err := op.DecodeValue(&v); err != nil {
		return harness.Node{}, refusal{err}
	}
	n, ok := harness.NodeByName(c.Nodes(), v.Node)
	if !ok {
		return harness.Node{}, refuse("no node %q in the cluster", v.Node)
	}
	return n, nil
}

// removeMember removes the step's node from the raft group, stops it and
// wipes its data. It refuses, doing nothing, when the step could cost the
// quorum: when the group would drop below MinMembers, or when a member
// has not started (a removal then leaves fewer live voters than the
// group's size suggests).
func (m *Nemesis) removeMember(ctx context.Context, c harness.Cluster, op harness.Op) (any, error) {
	ms, err := membershipOf(c)
	if err != nil {
		return nil, err
	}
	n, err := memberNodeOf(c, op)
	if err != nil {
		return nil, err
	}
	members, err := ms.Members(ctx)
	if err != nil {
		return nil, fmt.Errorf("member list: %w", err)
	}
	names := memberNames(members)
	switch {
	case !slices.Contains(names, n.Name):
		return MemberEffect{Node: n.Name, Members: names}, refuse("%s is not a started member (members: %v)", n.Name, names)
	case slices.Contains(names, "?"):
		return MemberEffect{Node: n.Name, Members: names}, refuse("a member has not started yet (members: %v); removing %s now could cost the quorum", names, n.Name)
	case len(members)-1 < MinMembers:
		return MemberEffect{Node: n.Name, Members: names}, refuse("removing %s would leave %d members; the member fault never goes below %d", n.Name, len(members)-1, MinMembers)
	}
	// Marked before the attempt: a removal that fails half-way (removed
	// but not wiped) must still be undone by Heal.
	m.removed[n.Name] = true
	removed, err := ms.RemoveMember(ctx, n)
	effect := MemberEffect{Node: n.Name, ID: hexID(removed.ID), Members: without(names, []string{n.Name})}
	return effect, err
}

// addMember adds the step's node, removed and wiped before, back to the
// raft group and starts it; it completes once the node serves. It refuses
// a node that the nemesis did not remove.
func (m *Nemesis) addMember(ctx context.Context, c harness.Cluster, op harness.Op) (any, error) {
	ms, err := membershipOf(c)
	if err != nil {
		return nil, err
	}
	n, err := memberNodeOf(c, op)
	if err != nil {
		return nil, err
	}
	if !m.removed[n.Name] {
		return MemberEffect{Node: n.Name}, refuse("%s was not removed, so it cannot be added back", n.Name)
	}
	added, err := ms.AddMember(ctx, n)
	effect := MemberEffect{Node: n.Name, ID: hexID(added.ID)}
	if err != nil {
		return effect, err
	}
	delete(m.removed, n.Name)
	if members, err := ms.Members(ctx); err == nil {
		effect.Members = memberNames(members)
	}
	return effect, nil
}

// memberNames renders a member list as node names, "?" for a member that
// has not started, sorted.
func memberNames(members []harness.Member) []string {
	names := make([]string, len(members))
	for i, mb := range members {
		names[i] = mb.Name
		if mb.Name == "" {
			names[i] = "?"
		}
	}
	slices.Sort(names)
	return names
}

func hexID(id uint64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatUint(id, 16)
}
