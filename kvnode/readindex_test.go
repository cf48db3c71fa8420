package kvnode

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3/raftpb"
)

// TestReadRoundsCoalesce: reads that arrive before a round starts share it;
// a read that arrives once it has started waits for the next round, whose
// read index is asked for after that read arrived.
func TestReadRoundsCoalesce(t *testing.T) {
	r := newReadRounds()
	require.Nil(t, r.take(), "no reader, no round")

	first, second := r.join(), r.join()
	require.Same(t, first, second, "reads waiting together share a round")
	require.Len(t, r.wake, 1, "the read loop is woken once")
	started := r.take()
	require.Same(t, first, started)

	late := r.join()
	require.NotSame(t, started, late, "a read arriving after the round started waits for the next")
	require.Same(t, late, r.take())
	require.Nil(t, r.take(), "every reader is served")
}

// TestSplitMessages: only the responses that vouch for this node's disk wait
// for the write; raft's own classification, checked type by type.
func TestSplitMessages(t *testing.T) {
	var msgs []*raftpb.Message
	for _, typ := range []raftpb.MessageType{
		raftpb.MsgApp, raftpb.MsgAppResp, raftpb.MsgHeartbeat, raftpb.MsgHeartbeatResp,
		raftpb.MsgVote, raftpb.MsgVoteResp, raftpb.MsgPreVote, raftpb.MsgPreVoteResp,
		raftpb.MsgSnap, raftpb.MsgProp, raftpb.MsgReadIndex, raftpb.MsgReadIndexResp, raftpb.MsgTimeoutNow,
	} {
		msgs = append(msgs, &raftpb.Message{Type: typ.Enum()})
	}
	early, durable := splitMessages(msgs)
	types := func(ms []*raftpb.Message) []raftpb.MessageType {
		var out []raftpb.MessageType
		for _, m := range ms {
			out = append(out, m.GetType())
		}
		return out
	}
	require.Equal(t, []raftpb.MessageType{raftpb.MsgAppResp, raftpb.MsgVoteResp, raftpb.MsgPreVoteResp}, types(durable))
	require.Len(t, early, len(msgs)-3)
	require.NotContains(t, types(early), raftpb.MsgAppResp)
}
