package kvnode

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/status"
)

// readIndexRetry is how long a ReadIndex request may go unanswered before it
// is sent again. raft drops ReadIndex requests silently when there is no
// leader, or when a new leader has not committed an entry in its term yet.
const readIndexRetry = 500 * time.Millisecond

// readRound is the linearizable reads that wait for one read index: the
// reads that arrived before the round's ReadIndex request was sent.
type readRound struct {
	readers int           // guarded by readRounds.mu
	done    chan struct{} // closed when err is set
	err     error
}

// readRounds coalesces linearizable reads, as etcd's read loop does: one
// ReadIndex request, one quorum of heartbeats, serves every read that
// arrived before it was sent. A read that arrives while a round is in
// flight waits for the next one, since the index confirmed for the round in
// flight may predate it.
type readRounds struct {
	mu   sync.Mutex
	next *readRound    // the round arriving reads join
	wake chan struct{} // capacity 1: next has readers
}

func newReadRounds() *readRounds {
	return &readRounds{next: &readRound{done: make(chan struct{})}, wake: make(chan struct{}, 1)}
}

// join adds a reader to the next round and wakes the read loop.
func (r *readRounds) join() *readRound {
	r.mu.Lock()
	round := r.next
	round.readers++
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return round
}

// take starts the next round, or returns nil if no reader joined it.
func (r *readRounds) take() *readRound {
	r.mu.Lock()
	defer r.mu.Unlock()
	round := r.next
	if round.readers == 0 {
		return nil
	}
	r.next = &readRound{done: make(chan struct{})}
	return round
}

// linearizableBarrier returns once this node's state machine reflects every
// write committed before the call: it joins the next read round and waits
// for it (see readLoop).
func (s *Server) linearizableBarrier(ctx context.Context) error {
	round := s.readRounds.join()
	select {
	case <-round.done:
		return round.err
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	case <-s.stopping:
		return rpctypes.ErrGRPCStopped
	}
}

// readLoop runs one read round at a time while readers wait, until the
// server stops.
func (s *Server) readLoop() {
	defer close(s.readsDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stopping
		cancel()
	}()
	for {
		select {
		case <-s.readRounds.wake:
		case <-s.stopping:
			return
		}
		if round := s.readRounds.take(); round != nil {
			round.err = s.confirmReadIndex(ctx)
			close(round.done)
		}
	}
}

// confirmReadIndex asks raft for a read index (the leader's commit index,
// confirmed by a quorum of heartbeats), then waits until the local applied
// index reaches it.
//
// Each attempt carries a fresh request context, so a late answer to an
// abandoned attempt can never satisfy a later one. When the node has had no
// leader for a whole election timeout, the round fails with ErrGRPCNoLeader
// rather than waiting for the full request timeout. stopCtx ends when the
// server stops; errors are etcd's, as for a proposal (see proposeError).
func (s *Server) confirmReadIndex(stopCtx context.Context) error {
	waitCtx, cancel := context.WithTimeout(stopCtx, s.cfg.requestTimeout())
	defer cancel()
	// No client waits on the round itself: each reader watches its own
	// context, so errors are mapped as for a client that is still there.
	ctx := context.Background()
	var leaderlessSince time.Time
	for {
		if s.lead.Load() == 0 {
			if leaderlessSince.IsZero() {
				leaderlessSince = time.Now()
			} else if time.Since(leaderlessSince) >= s.cfg.ElectionTimeout {
				return rpctypes.ErrGRPCNoLeader
			}
		} else {
			leaderlessSince = time.Time{}
		}

		requestCtx := binary.BigEndian.AppendUint64(nil, newRequestID())
		confirmed := s.reads.register(requestCtx)
		if err := s.node.ReadIndex(waitCtx, requestCtx); err != nil {
			s.reads.cancel(requestCtx)
			return s.proposeError(ctx, err)
		}
		retry := time.NewTimer(readIndexRetry)
		select {
		case index := <-confirmed:
			retry.Stop()
			if err := s.applied.waitFor(waitCtx, index); err != nil {
				return s.waitError(ctx)
			}
			return nil
		case <-retry.C:
			s.reads.cancel(requestCtx)
		case <-waitCtx.Done():
			retry.Stop()
			s.reads.cancel(requestCtx)
			if s.lead.Load() == 0 && stopCtx.Err() == nil {
				return rpctypes.ErrGRPCNoLeader
			}
			return s.waitError(ctx)
		case <-s.stopping:
			retry.Stop()
			s.reads.cancel(requestCtx)
			return rpctypes.ErrGRPCStopped
		}
	}
}
