package watch

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/internal/etcdtest"
)

// mutation breaks one watch op of a history: pick says which op it can
// break, apply breaks it.
type mutation struct {
	name     string
	property string
	pick     func(op harness.Op, v *WatchValue) bool
	apply    func(v *WatchValue)
}

// eventResponses counts v's responses with events.
func eventResponses(v *WatchValue) int {
	n := 0
	for _, r := range v.Responses {
		if len(r.Events) > 0 {
			n++
		}
	}
	return n
}

// continuing picks process 0's ops that read an open watch, with four
// responses with events or more.
func continuing(op harness.Op, v *WatchValue) bool {
	return op.Process == 0 && v.From == nil && eventResponses(v) >= 4
}

var mutations = []mutation{
	{"drop a response", Reliable, continuing, func(v *WatchValue) {
		for i := range v.Responses {
			if i > 1 && len(v.Responses[i].Events) > 0 {
				v.Responses = append(v.Responses[:i], v.Responses[i+1:]...)
				return
			}
		}
	}},
	{"swap two responses", Ordered, func(op harness.Op, v *WatchValue) bool {
		return continuing(op, v) && adjacent(v) >= 0
	}, func(v *WatchValue) {
		// Adjacent ones: a progress notification between them would make
		// the swap break Bookmarkable too.
		i := adjacent(v)
		v.Responses[i], v.Responses[i+1] = v.Responses[i+1], v.Responses[i]
	}},
	{"deliver a response twice", Unique, continuing, func(v *WatchValue) {
		for i := range v.Responses {
			if i > 0 && len(v.Responses[i].Events) > 0 {
				v.Responses = append(v.Responses[:i+1], v.Responses[i:]...)
				return
			}
		}
	}},
	{"change a previous value", PrevKV, continuing, func(v *WatchValue) {
		for i := range v.Responses {
			for j := range v.Responses[i].Events {
				if e := &v.Responses[i].Events[j]; e.PrevValue != nil {
					wrong := "-1"
					e.PrevValue = &wrong
					return
				}
			}
		}
	}},
	{"notify progress before an event", Bookmarkable, continuing, func(v *WatchValue) {
		for i := range v.Responses {
			if i > 0 && len(v.Responses[i].Events) > 0 {
				p := Response{Revision: v.Responses[i].Events[0].Revision, Progress: true}
				v.Responses = append(v.Responses[:i], append([]Response{p}, v.Responses[i:]...)...)
				return
			}
		}
	}},
	{"split a txn's revision", Atomic, func(op harness.Op, v *WatchValue) bool {
		return op.Process == 0 && splittable(v) >= 0
	}, func(v *WatchValue) {
		i := splittable(v)
		a, b := v.Responses[i], v.Responses[i]
		a.Events, b.Events = a.Events[:1], b.Events[1:]
		v.Responses = append(v.Responses[:i], append([]Response{a, b}, v.Responses[i+1:]...)...)
	}},
	{"drop a watch's first event", Resumable, func(op harness.Op, v *WatchValue) bool {
		return op.Process == 0 && v.From != nil && *v.From > 0 && len(events(*v)) >= 2
	}, func(v *WatchValue) {
		for i := range v.Responses {
			if len(v.Responses[i].Events) > 0 {
				v.Responses[i].Events = v.Responses[i].Events[1:]
				return
			}
		}
	}},
}

// adjacent is the index of a response of v with events followed by
// another, or -1.
func adjacent(v *WatchValue) int {
	for i := 1; i+1 < len(v.Responses); i++ {
		if len(v.Responses[i].Events) > 0 && len(v.Responses[i+1].Events) > 0 {
			return i
		}
	}
	return -1
}

// splittable is the index of a response of v whose first two events are
// of one revision, or -1.
func splittable(v *WatchValue) int {
	for i, r := range v.Responses {
		if len(r.Events) >= 2 && r.Events[0].Revision == r.Events[1].Revision {
			return i
		}
	}
	return -1
}

// TestMutationsOfARealHistory: in a history recorded against a real
// etcd, breaking one watch op the way a bug would breaks exactly the
// guarantee it should, and no other.
func TestMutationsOfARealHistory(t *testing.T) {
	s := etcdtest.Start(t, func(cfg *embed.Config) { cfg.WatchProgressNotifyInterval = 200 * time.Millisecond })
	w, err := New(Options{Concurrency: 4, Client: ClientOptions{Prefix: "/mutated/", Window: 300 * time.Millisecond}})
	require.NoError(t, err)
	h := s.Run(t, w, etcdtest.RunOptions{Concurrency: 4, TimeLimit: 3 * time.Second, Rate: 300})
	verdicts := func(h harness.History) map[string]harness.Valid {
		d := Checker{}.Check(context.Background(), h, "").Details.(*Details)
		out := map[string]harness.Valid{}
		for _, p := range d.Properties {
			out[p.Name] = p.Valid
		}
		return out
	}
	original := verdicts(h)
	for _, p := range Properties {
		require.NotEqual(t, harness.ValidFalse, original[p], p)
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			mutated := append(harness.History(nil), h...)
			at := -1
			var v WatchValue
			for i, op := range mutated {
				if op.F != Watch || op.Type != harness.OK {
					continue
				}
				v = WatchValue{}
				require.NoError(t, json.Unmarshal(op.Value, &v))
				if m.pick(op, &v) {
					at = i
					break
				}
			}
			require.GreaterOrEqual(t, at, 0, "no watch op to break")
			m.apply(&v)
			mutated[at].Value = harness.MustValue(v)
			got := verdicts(mutated)
			for _, p := range Properties {
				want := original[p]
				if p == m.property {
					want = harness.ValidFalse
				}
				assert.Equal(t, want, got[p], "%s after %s", p, m.name)
			}
		})
	}
}
