package results

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"time"

	"github.com/faultline/faultline/harness"
)

// syntheticHistory builds a register history of about n client ops (each an
// invoke and a completion) over 60 s from 10 client threads, with a
// partition from 10 s to 20 s and a kill from 35 s to 45 s, during which
// ops are slow, fail or time out. It is what a real run looks like to the
// reports, without a cluster.
func syntheticHistory(n int, seed int64) harness.History {
	r := rand.New(rand.NewSource(seed))
	const threads = 10
	const length = 60 * time.Second
	var h harness.History
	nemesis := func(at time.Duration, t harness.Type, f, value string) {
		op := harness.Op{Process: harness.NemesisProcess, Type: t, F: f, Time: at}
		if value != "" {
			op.Value = json.RawMessage(value)
		}
		h = append(h, op)
	}
	nemesis(10*time.Second, harness.Invoke, "start-partition", `{"layout":"halves","seed":1}`)
	nemesis(10*time.Second+200*time.Millisecond, harness.OK, "start-partition", `{"layout":"halves","groups":[["n1","n2"],["n3","n4","n5"]]}`)
	nemesis(20*time.Second, harness.Invoke, "stop-partition", "")
	nemesis(20*time.Second+150*time.Millisecond, harness.OK, "stop-partition", "")
	nemesis(35*time.Second, harness.Invoke, "kill", `{"targets":"one","seed":2}`)
	nemesis(35*time.Second+100*time.Millisecond, harness.OK, "kill", `{"nodes":["n3"]}`)
	nemesis(45*time.Second, harness.Invoke, "start", "")
	nemesis(45*time.Second+300*time.Millisecond, harness.OK, "start", `{"nodes":["n3"]}`)
	faulty := func(t time.Duration) bool {
		return (t > 10*time.Second && t < 20*time.Second) || (t > 35*time.Second && t < 45*time.Second)
	}
	gap := length * threads / time.Duration(max(n, 1))
	fs := []string{"read", "write", "cas"}
	for thread := 0; thread < threads; thread++ {
		process := harness.Process(thread)
		node := fmt.Sprintf("n%d", thread%5+1)
		at := time.Duration(r.Int63n(int64(gap)))
		for i := 0; at < length; i++ {
			f := fs[r.Intn(len(fs))]
			key := fmt.Sprintf("r%d", (int(at/time.Second)/5)*2+thread%2)
			var value string
			switch f {
			case "write":
				value = fmt.Sprint(r.Intn(5))
			case "cas":
				value = fmt.Sprintf("[%d,%d]", r.Intn(5), r.Intn(5))
			}
			inv := harness.Op{Process: process, Type: harness.Invoke, F: f, Key: key, Time: at, Node: node}
			if value != "" {
				inv.Value = json.RawMessage(value)
			}
			latency := time.Duration(300+r.Intn(3000)) * time.Microsecond
			done := inv
			done.Type = harness.OK
			if f == "read" {
				done.Value = json.RawMessage(fmt.Sprint(r.Intn(5)))
			}
			switch {
			case faulty(at) && r.Intn(3) == 0:
				latency = 2 * time.Second
				done.Type, done.Error = harness.Info, "context deadline exceeded"
				if f == "read" {
					done.Type, done.Value = harness.Fail, nil
				}
			case faulty(at) && r.Intn(3) == 0:
				latency = time.Duration(50+r.Intn(900)) * time.Millisecond
			case f == "cas" && r.Intn(3) == 0:
				done.Type, done.Error = harness.Fail, "compare failed"
			}
			done.Time = at + latency
			h = append(h, inv, done)
			if done.Type == harness.Info {
				process += threads
			}
			at = done.Time + time.Duration(r.Int63n(int64(gap)))
		}
	}
	nemesis(length, harness.Invoke, "heal", "")
	nemesis(length+10*time.Millisecond, harness.OK, "heal", "")
	sort.SliceStable(h, func(i, j int) bool { return h[i].Time < h[j].Time })
	for i := range h {
		h[i].Index = i
	}
	return h
}
