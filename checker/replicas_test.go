package checker

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

func hashOps(hs ...harness.HashKV) harness.History {
	var h harness.History
	t := time.Duration(0)
	h = append(h, harness.Op{Process: 0, Type: harness.Invoke, F: "write", Time: t},
		harness.Op{Process: 0, Type: harness.OK, F: "write", Time: t + 1, Revision: 100})
	for _, hk := range hs {
		t += 10
		h = append(h, harness.Op{Process: harness.MonitorProcess, Type: harness.Invoke, F: harness.HashKVF, Node: hk.Node, Time: t})
		done := harness.Op{Process: harness.MonitorProcess, Type: harness.OK, F: harness.HashKVF, Node: hk.Node, Time: t + 1, Value: harness.MustValue(hk)}
		if hk.Hash == 0 {
			done.Type, done.Error, done.Value = harness.Info, "context deadline exceeded", nil
		}
		h = append(h, done)
	}
	for i := range h {
		h[i].Index = i
	}
	return h
}

// TestReplicasFindADivergence: members whose hashes differ at the common
// revision, or one behind an acknowledged revision, are findings; equal
// hashes pass; a member without a hash leaves it unknown.
func TestReplicasFindADivergence(t *testing.T) {
	same := hashOps(harness.HashKV{Node: "n1", Revision: 120, Current: 120, Hash: 7}, harness.HashKV{Node: "n2", Revision: 120, Current: 120, Hash: 7})
	require.NoError(t, same.Validate())
	r := Replicas{}.Check(context.Background(), same, "")
	assert.Equal(t, harness.ValidTrue, r.Valid, "%v", r.Summary)

	split := hashOps(harness.HashKV{Node: "n1", Revision: 120, Current: 120, Hash: 7}, harness.HashKV{Node: "n2", Revision: 120, Current: 120, Hash: 9},
		harness.HashKV{Node: "n3", Revision: 120, Current: 120, Hash: 7})
	r = Replicas{}.Check(context.Background(), split, "")
	require.Equal(t, harness.ValidFalse, r.Valid)
	assert.Contains(t, r.Summary[1], "n1,n3: hash 7 at revision 120")
	assert.Contains(t, r.Summary[1], "n2: hash 9")

	behind := hashOps(harness.HashKV{Node: "n1", Revision: 90, Current: 90, Hash: 7})
	r = Replicas{}.Check(context.Background(), behind, "")
	require.Equal(t, harness.ValidFalse, r.Valid)
	assert.Contains(t, r.Summary[1], "n1 is at revision 90, below 100")

	missing := hashOps(harness.HashKV{Node: "n1", Revision: 120, Current: 120, Hash: 7}, harness.HashKV{Node: "n2"})
	r = Replicas{}.Check(context.Background(), missing, "")
	assert.Equal(t, harness.ValidUnknown, r.Valid)
}
