package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// Recorder appends ops to the in-memory history and to history.jsonl as they
// happen. It assigns each op its index and its time since the test started,
// under one lock, so indexes and times agree with the real order.
//
// The file is flushed and fsynced at most every SyncEvery, and on Close. A
// harness killed mid-run therefore leaves a prefix that is at most SyncEvery
// old, and ReadJSONL drops a torn last line. Syncing each op would cost one
// disk flush per op on the clients' hot path for no extra safety in a
// checker's eyes: a prefix is as checkable as the whole.
type Recorder struct {
	mu       sync.Mutex
	start    time.Time
	history  History
	file     *os.File
	buf      *bufio.Writer
	enc      *json.Encoder
	lastSync time.Time
	closed   bool
	err      error
	// SyncEvery bounds how stale the file may be.
	SyncEvery time.Duration
	// OnRecord, if set, is called with each recorded op, outside no lock;
	// it must be fast (the progress line uses it).
	OnRecord func(Op)
}

// NewRecorder creates path and records into it. The clock starts now.
func NewRecorder(path string) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create history: %w", err)
	}
	buf := bufio.NewWriterSize(f, 256*1024)
	return &Recorder{start: time.Now(), file: f, buf: buf, enc: json.NewEncoder(buf), SyncEvery: 200 * time.Millisecond}, nil
}

// NewMemoryRecorder records in memory only; for tests.
func NewMemoryRecorder() *Recorder {
	return &Recorder{start: time.Now()}
}

// Start is the instant the test clock started.
func (r *Recorder) Start() time.Time { return r.start }

// Since is the test-relative time of now.
func (r *Recorder) Since() time.Duration { return time.Since(r.start) }

// Record stamps op with the next index and the current test time, appends
// it, and returns the stamped op.
func (r *Recorder) Record(op Op) (Op, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return op, ErrClosed
	}
	op.Index = len(r.history)
	op.Time = time.Since(r.start)
	r.history = append(r.history, op)
	if r.enc != nil && r.err == nil {
		if err := r.enc.Encode(op); err != nil {
			r.err = fmt.Errorf("append op %d: %w", op.Index, err)
		} else if time.Since(r.lastSync) >= r.SyncEvery {
			r.err = r.syncLocked()
		}
	}
	err := r.err
	hook := r.OnRecord
	r.mu.Unlock()
	if hook != nil {
		hook(op)
	}
	return op, err
}

func (r *Recorder) syncLocked() error {
	r.lastSync = time.Now()
	if err := r.buf.Flush(); err != nil {
		return fmt.Errorf("flush history: %w", err)
	}
	if err := r.file.Sync(); err != nil {
		return fmt.Errorf("sync history: %w", err)
	}
	return nil
}

// History returns a copy of everything recorded so far.
func (r *Recorder) History() History {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(History(nil), r.history...)
}

// Close flushes, syncs and closes the file. Further Records fail.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.err
	}
	r.closed = true
	if r.file == nil {
		return r.err
	}
	if r.err == nil {
		r.err = r.syncLocked()
	}
	if err := r.file.Close(); err != nil && r.err == nil {
		r.err = fmt.Errorf("close history: %w", err)
	}
	return r.err
}
