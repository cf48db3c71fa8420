package kvnode

import (
	"context"
	"sync"
)

// proposalWaiters hands each applied request's result to the client that
// proposed it, found by request ID. A result is delivered at most once; a
// result nobody waits for (the client gave up, or another node proposed the
// request) is dropped.
type proposalWaiters struct {
	mu      sync.Mutex
	waiters map[uint64]chan applyResult
}

func newProposalWaiters() *proposalWaiters {
	return &proposalWaiters{waiters: make(map[uint64]chan applyResult)}
}

// register returns the channel the result of request id will arrive on.
func (w *proposalWaiters) register(id uint64) <-chan applyResult {
	ch := make(chan applyResult, 1)
	w.mu.Lock()
	w.waiters[id] = ch
	w.mu.Unlock()
	return ch
}

// cancel forgets request id.
func (w *proposalWaiters) cancel(id uint64) {
	w.mu.Lock()
	delete(w.waiters, id)
	w.mu.Unlock()
}

// trigger delivers the result of request id, if someone waits for it.
func (w *proposalWaiters) trigger(id uint64, res applyResult) {
	w.mu.Lock()
	ch, ok := w.waiters[id]
	delete(w.waiters, id)
	w.mu.Unlock()
	if ok {
		ch <- res
	}
}

// readWaiters hands the read index raft confirmed for a ReadIndex request to
// the reader that asked, found by the request context.
type readWaiters struct {
	mu      sync.Mutex
	waiters map[string]chan uint64
}

func newReadWaiters() *readWaiters {
	return &readWaiters{waiters: make(map[string]chan uint64)}
}

func (r *readWaiters) register(requestCtx []byte) <-chan uint64 {
	ch := make(chan uint64, 1)
	r.mu.Lock()
	r.waiters[string(requestCtx)] = ch
	r.mu.Unlock()
	return ch
}

func (r *readWaiters) cancel(requestCtx []byte) {
	r.mu.Lock()
	delete(r.waiters, string(requestCtx))
	r.mu.Unlock()
}

func (r *readWaiters) trigger(requestCtx []byte, index uint64) {
	r.mu.Lock()
	ch, ok := r.waiters[string(requestCtx)]
	delete(r.waiters, string(requestCtx))
	r.mu.Unlock()
	if ok {
		ch <- index
	}
}

// appliedIndex is the index of the last entry applied to the state machine,
// with a way to wait until it reaches a given index.
type appliedIndex struct {
	mu      sync.Mutex
	index   uint64
	changed chan struct{} // closed and replaced whenever index moves
}

func newAppliedIndex(index uint64) *appliedIndex {
	return &appliedIndex{index: index, changed: make(chan struct{})}
}

func (a *appliedIndex) get() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.index
}

func (a *appliedIndex) set(index uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if index == a.index {
		return
	}
	a.index = index
	close(a.changed)
	a.changed = make(chan struct{})
}

// waitFor blocks until the applied index is at least index, or ctx ends.
func (a *appliedIndex) waitFor(ctx context.Context, index uint64) error {
	for {
		a.mu.Lock()
		reached, changed := a.index >= index, a.changed
		a.mu.Unlock()
		if reached {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// broadcaster wakes everyone waiting for a change: wait returns a channel
// that notify closes (and replaces). Watch streams wait on one for changes
// of the key-value state.
type broadcaster struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBroadcaster() *broadcaster { return &broadcaster{ch: make(chan struct{})} }

// wait returns a channel closed at the next notify.
func (b *broadcaster) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

// notify wakes every waiter.
func (b *broadcaster) notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.ch)
	b.ch = make(chan struct{})
}
