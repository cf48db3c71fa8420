package main

// The scale of `faultline check`: a generated register history of a
// million ops over a thousand keys, checked by the real binary, in time
// and peak memory. Run it with
//
//	go test -run XXX -bench CheckMillionOps -benchtime 1x ./cmd/faultline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/checker/linearizable"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
	"github.com/faultline/faultline/results/edn"
	"github.com/faultline/faultline/workloads/register"
)

// simOp is one generated op of one key, before it is laid out in time.
type simOp struct {
	process           harness.Process
	f                 string
	arg               json.RawMessage
	invoke, done, lin time.Duration // lin < 0: an info op that never took effect
	typ               harness.Type
	result            json.RawMessage
}

// linearizableHistory generates a register history of ops ops (each an
// invocation and its completion) over keys keys, 4 processes per key,
// spread over an hour, that is linearizable by construction: every op
// takes effect at a random instant between its invocation and completion,
// and reads and cas ops see what the register holds then. One
// in 200 of the writes and cas ops time out (info), and half of those never
// happen: open-ended ops are what make a key expensive to check.
func linearizableHistory(ops, keys int, seed int64) harness.History {
	r := rand.New(rand.NewSource(seed))
	const perKey = 4
	span := time.Hour
	h := make(harness.History, 0, 2*ops)
	for k := 0; k < keys; k++ {
		n := ops / keys
		if k < ops%keys {
			n++
		}
		var sim []simOp
		for j := 0; j < perKey; j++ {
			process := harness.Process(k*perKey + j)
			at := time.Duration(r.Int63n(int64(span / 100)))
			for i := j; i < n; i += perKey {
				op := simOp{process: process, invoke: at, typ: harness.OK}
				switch f := r.Intn(3); f {
				case 0:
					op.f = "read"
				case 1:
					op.f, op.arg = "write", json.RawMessage(strconv.Itoa(r.Intn(10)))
				default:
					op.f, op.arg = "cas", json.RawMessage(fmt.Sprintf("[%d,%d]", r.Intn(10), r.Intn(10)))
				}
				took := time.Duration(200+r.Intn(3000)) * time.Microsecond
				op.done = at + took
				op.lin = at + time.Duration(r.Int63n(int64(took)))
				if op.f != "read" && r.Intn(200) == 0 {
					op.typ, op.done = harness.Info, at+2*time.Second
					if r.Intn(2) == 0 {
						op.lin = -1
					}
				}
				sim = append(sim, op)
				at = op.done + time.Duration(r.Int63n(int64(span/time.Duration(n)*perKey)))
				if op.typ == harness.Info {
					process += harness.Process(keys * perKey)
				}
			}
		}
		applyInOrder(sim)
		key := "r" + strconv.Itoa(k)
		for _, op := range sim {
			inv := harness.Op{Process: op.process, Type: harness.Invoke, F: op.f, Key: key, Value: op.arg, Time: op.invoke}
			done := inv
			done.Type, done.Time = op.typ, op.done
			if op.f == "read" {
				done.Value = op.result
			}
			h = append(h, inv, done)
		}
	}
	slices.SortStableFunc(h, func(a, b harness.Op) int { return int(a.Time - b.Time) })
	for i := range h {
		h[i].Index = i
	}
	return h
}

// applyInOrder runs the ops of one key on a register in the order they take
// effect and fills in what each saw: a read's value, a cas's success.
func applyInOrder(sim []simOp) {
	order := make([]int, 0, len(sim))
	for i := range sim {
		if sim[i].lin >= 0 {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int { return int(sim[a].lin - sim[b].lin) })
	value, present := 0, false
	for _, i := range order {
		op := &sim[i]
		switch op.f {
		case "read":
			op.result = json.RawMessage("null")
			if present {
				op.result = json.RawMessage(strconv.Itoa(value))
			}
		case "write":
			value, present = mustAtoi(string(op.arg)), true
		case "cas":
			var pair [2]int
			_ = json.Unmarshal(op.arg, &pair)
			if present && value == pair[0] {
				value = pair[1]
			} else if op.typ == harness.OK {
				op.typ = harness.Fail
			}
		}
	}
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// TestGeneratedHistoryIsLinearizable: the generator's histories are what
// it says, so a scale figure measures a check that passes; and a read
// changed to a value nobody wrote makes the checker say so.
func TestGeneratedHistoryIsLinearizable(t *testing.T) {
	h := linearizableHistory(20000, 20, 1)
	require.NoError(t, h.Validate())
	c, err := linearizable.New(register.Model(), linearizable.Options{Timeout: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, harness.ValidTrue, c.Check(context.Background(), h, "").Valid)
	for i, op := range h {
		if op.F == "read" && op.Type == harness.OK && i > len(h)/2 {
			h[i].Value = json.RawMessage("99")
			break
		}
	}
	assert.Equal(t, harness.ValidFalse, c.Check(context.Background(), h, "").Valid)
}

// BenchmarkCheckMillionOps checks a million ops over a thousand keys with
// the faultline binary, from history.jsonl and from history.edn, and
// reports the wall time, the CPU time (which a busy machine does not
// inflate) and the peak resident memory of each.
func BenchmarkCheckMillionOps(b *testing.B) {
	h := linearizableHistory(1_000_000, 1000, 7)
	dir := b.TempDir()
	jsonl, ednDir := filepath.Join(dir, "jsonl"), filepath.Join(dir, "edn")
	for _, d := range []string{jsonl, ednDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	f, err := os.Create(filepath.Join(jsonl, results.HistoryFile))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := harness.WriteJSONL(w, h); err != nil {
		b.Fatal(err)
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		b.Fatal(err)
	}
	if err := edn.WriteHistoryFile(filepath.Join(ednDir, results.EDNHistoryFile), h); err != nil {
		b.Fatal(err)
	}
	h = nil
	for _, c := range []struct{ name, path string }{
		{"jsonl", jsonl},
		{"edn", filepath.Join(ednDir, results.EDNHistoryFile)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				cmd := exec.Command(faultlineBin, "check", "--check-timeout", "1800", c.path)
				start := time.Now()
				out, err := cmd.CombinedOutput()
				took := time.Since(start)
				if err != nil {
					b.Fatalf("check: %v\n%s", err, out)
				}
				rusage := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				cpu := time.Duration(rusage.Utime.Nano() + rusage.Stime.Nano()).Seconds()
				b.ReportMetric(took.Seconds(), "s/check")
				b.ReportMetric(cpu, "cpu-s/check")
				b.ReportMetric(float64(rusage.Maxrss)/1024, "peak-MiB")
				b.Logf("%s: %.1f s wall, %.1f s CPU, peak RSS %.0f MiB\n%s", c.name, took.Seconds(), cpu, float64(rusage.Maxrss)/1024, out)
			}
		})
	}
}
