package kvnode_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// registerInput is one operation on a register (a key).
type registerInput struct {
	op       string // "get", "put" or "cas"
	key      string
	value    string // put and cas: the new value
	expected string // cas: the value required
}

// registerOutput is what the operation returned. unknown marks a write whose
// outcome is unknown (it errored); such an operation may take effect at any
// point after its call, or never.
type registerOutput struct {
	value   string // get: the value read ("" when missing)
	ok      bool   // cas: whether it swapped
	unknown bool
}

// registerModel is a map of registers, partitioned by key; a missing key
// reads as "".
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := make(map[string][]porcupine.Operation)
		var keys []string
		for _, op := range history {
			k := op.Input.(registerInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		in, out, current := input.(registerInput), output.(registerOutput), state.(string)
		switch in.op {
		case "get":
			return out.value == current, current
		case "put":
			return true, in.value
		default: // cas
			swaps := current == in.expected
			if out.unknown {
				if swaps {
					return true, in.value
				}
				return true, current
			}
			if out.ok != swaps {
				return false, current
			}
			if swaps {
				return true, in.value
			}
			return true, current
		}
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(registerInput), output.(registerOutput)
		switch {
		case out.unknown:
			return fmt.Sprintf("%s(%s, %q) -> ?", in.op, in.key, in.value)
		case in.op == "get":
			return fmt.Sprintf("get(%s) -> %q", in.key, out.value)
		case in.op == "put":
			return fmt.Sprintf("put(%s, %q)", in.key, in.value)
		default:
			return fmt.Sprintf("cas(%s, %q -> %q) -> %v", in.key, in.expected, in.value, out.ok)
		}
	},
}

// TestModelRejectsStaleRead makes sure the checker wiring can fail: a read
// that returns an overwritten value after the overwrite completed is not
// linearizable.
func TestModelRejectsStaleRead(t *testing.T) {
	history := []porcupine.Operation{
		{ClientId: 0, Input: registerInput{op: "put", key: "k", value: "1"}, Output: registerOutput{}, Call: 0, Return: 10},
		{ClientId: 0, Input: registerInput{op: "put", key: "k", value: "2"}, Output: registerOutput{}, Call: 20, Return: 30},
		{ClientId: 1, Input: registerInput{op: "get", key: "k"}, Output: registerOutput{value: "1"}, Call: 40, Return: 50},
	}
	require.Equal(t, porcupine.Illegal, porcupine.CheckOperationsTimeout(registerModel, history, time.Second))
	history[2].Output = registerOutput{value: "2"}
	require.Equal(t, porcupine.Ok, porcupine.CheckOperationsTimeout(registerModel, history, time.Second))
}

// TestLinearizableRegister runs concurrent clients, each pinned to one node,
// doing reads, writes and compare-and-sets on two keys while the leader is
// stopped and restarted, then checks the history with porcupine.
func TestLinearizableRegister(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.startAll()
	c.waitLeader()

	const (
		clientsPerNode = 2
		runFor         = 3 * time.Second
	)
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		okOps   int
		wg      sync.WaitGroup
	)
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	// Clients run until the fault is over and enough ops succeeded to
	// mean something, so a slow machine lengthens the test rather than
	// failing it.
	var stop atomic.Bool

	for node := range c.servers {
		for j := range clientsPerNode {
			id := node*clientsPerNode + j
			cli := c.client(node)
			rng := rand.New(rand.NewPCG(uint64(id), 42))
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := 0; !stop.Load(); seq++ {
					in := registerInput{key: fmt.Sprintf("r%d", rng.IntN(2)), value: fmt.Sprintf("c%d-%d", id, seq)}
					switch p := rng.IntN(10); {
					case p < 4:
						in.op = "get"
					case p < 7:
						in.op = "put"
					default:
						in.op = "cas"
						in.expected = fmt.Sprintf("c%d-%d", rng.IntN(len(c.servers)*clientsPerNode), rng.IntN(seq+1))
					}
					call := now()
					out, err := invokeRegister(cli, in)
					ret := now()
					if err != nil {
						if in.op == "get" {
							continue // a failed read changed nothing
						}
						out, ret = registerOutput{unknown: true}, math.MaxInt64
					}
					mu.Lock()
					history = append(history, porcupine.Operation{ClientId: id, Input: in, Output: out, Call: call, Return: ret})
					if err == nil {
						okOps++
					}
					mu.Unlock()
				}
			}()
		}
	}

	// The fault: stop the leader a third of the way in, bring it back later.
	time.Sleep(runFor / 3)
	leader := c.waitLeader()
	c.stop(leader)
	time.Sleep(runFor / 3)
	c.start(leader)
	time.Sleep(runFor / 3)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		enough := okOps > 40
		mu.Unlock()
		if enough {
			break
		}
	}
	stop.Store(true)
	wg.Wait()

	t.Logf("%d operations, %d ok", len(history), okOps)
	require.Greater(t, okOps, 40, "too few successful operations to mean anything")
	result, info := porcupine.CheckOperationsVerbose(registerModel, history, 20*time.Second)
	if result != porcupine.Ok {
		path := t.TempDir() + "/linearizability.html"
		if err := porcupine.VisualizePath(registerModel, info, path); err == nil {
			t.Logf("visualization: %s", path)
		}
	}
	require.Equal(t, porcupine.Ok, result, "history is not linearizable")
}

// invokeRegister runs one register operation with a short timeout.
func invokeRegister(cli *clientv3.Client, in registerInput) (registerOutput, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	switch in.op {
	case "get":
		resp, err := cli.Get(ctx, in.key)
		if err != nil {
			return registerOutput{}, err
		}
		if len(resp.Kvs) == 0 {
			return registerOutput{}, nil
		}
		return registerOutput{value: string(resp.Kvs[0].Value)}, nil
	case "put":
		_, err := cli.Put(ctx, in.key, in.value)
		return registerOutput{}, err
	default:
		resp, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.Value(in.key), "=", in.expected)).
			Then(clientv3.OpPut(in.key, in.value)).Commit()
		if err != nil {
			return registerOutput{}, err
		}
		return registerOutput{ok: resp.Succeeded}, nil
	}
}
