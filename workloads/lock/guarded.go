package lock

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/register"
)

// FencedError starts the error of an add whose guarded write the fence
// refused: the process's lock key was gone, so the lock had been lost
// while the process believed it held it.
const FencedError = "fenced"

// guardedSet is the set the lock protects: it lives either in the
// harness's memory (lock-set) or in etcd (lock-etcd-set). Both read the
// set, pause, and write it back with one element more, so that two
// holders at once lose one's update.
type guardedSet interface {
	// add completes an Add op for the holder of m.
	add(ctx context.Context, op harness.Op, e int, hold time.Duration, owner clientv3.Cmp) harness.Op
	// read returns the elements.
	read(ctx context.Context) ([]int, error)
}

// memorySet is lock-set's set: in the harness's memory, shared by every
// client of one workload. Its mutex only makes each read and each write
// atomic in Go's eyes; the read-modify-write as a whole is the etcd
// lock's to protect.
type memorySet struct {
	mu       sync.Mutex
	elements []int
}

func (s *memorySet) add(ctx context.Context, op harness.Op, e int, hold time.Duration, _ clientv3.Cmp) harness.Op {
	s.mu.Lock()
	snapshot := slices.Clone(s.elements)
	s.mu.Unlock()
	t := time.NewTimer(hold)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return failed(op, "timed out before writing the set back")
	case <-t.C:
	}
	s.mu.Lock()
	s.elements = append(snapshot, e)
	s.mu.Unlock()
	return op.Completion(harness.OK)
}

func (s *memorySet) read(context.Context) ([]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int{}, s.elements...), nil
}

// etcdSet is lock-etcd-set's set: a comma-separated list at one key.
// Its write is a Txn guarded by the lock: it applies only if the holder's
// lock key still exists with the create revision it was acquired with.
type etcdSet struct {
	cli          *clientv3.Client
	key          string
	serializable bool
}

func (s *etcdSet) add(ctx context.Context, op harness.Op, e int, hold time.Duration, owner clientv3.Cmp) harness.Op {
	resp, err := s.cli.Get(ctx, s.key)
	if err != nil {
		return failed(op, fmt.Sprintf("read the set: %v", err))
	}
	list := ""
	if len(resp.Kvs) > 0 {
		list = string(resp.Kvs[0].Value) + ","
	}
	t := time.NewTimer(hold)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return failed(op, "timed out before writing the set back")
	case <-t.C:
	}
	txn, err := s.cli.Txn(ctx).If(owner).Then(clientv3.OpPut(s.key, list+strconv.Itoa(e))).Commit()
	if err != nil {
		done := op.Completion(register.Outcome(true, err))
		done.Error = fmt.Sprintf("write the set: %v", err)
		return done
	}
	if !txn.Succeeded {
		return failed(op, FencedError+": the lock key is gone, so the lock was lost; nothing written")
	}
	return op.Completion(harness.OK)
}

func (s *etcdSet) read(ctx context.Context) ([]int, error) {
	var opts []clientv3.OpOption
	if s.serializable {
		opts = append(opts, clientv3.WithSerializable())
	}
	resp, err := s.cli.Get(ctx, s.key, opts...)
	if err != nil {
		return nil, fmt.Errorf("read the set: %w", err)
	}
	out := []int{}
	if len(resp.Kvs) == 0 {
		return out, nil
	}
	for _, part := range strings.Split(string(resp.Kvs[0].Value), ",") {
		e, err := strconv.Atoi(part)
		if err != nil {
			return nil, fmt.Errorf("the set holds %q, not an element", part)
		}
		out = append(out, e)
	}
	return out, nil
}

func failed(op harness.Op, reason string) harness.Op {
	done := op.Completion(harness.Fail)
	done.Error = reason
	return done
}
