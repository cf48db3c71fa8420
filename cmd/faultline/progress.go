package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/faultline/faultline/harness"
)

// progress keeps the figures of the live progress line: elapsed time
// against the limit, ok ops/s, ok/fail/info counts and the fault in force.
type progress struct {
	mu              sync.Mutex
	limit           time.Duration
	began           time.Time
	ok, fail, info  int
	fault           string
	lastOK, lastTic int
}

func newProgress(limit time.Duration) *progress {
	return &progress{limit: limit, began: time.Now(), fault: "none"}
}

// record counts one op; it is the recorder's hook, so it must be quick.
func (p *progress) record(op harness.Op) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !op.IsClient() {
		if op.Type != harness.Invoke {
			switch op.F {
			case "stop-partition", "start", "heal":
				p.fault = "none"
			default:
				p.fault = op.F
			}
		}
		return
	}
	switch op.Type {
	case harness.OK:
		p.ok++
	case harness.Fail:
		p.fail++
	case harness.Info:
		p.info++
	}
}

func (p *progress) line() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	rate := p.ok - p.lastOK
	p.lastOK = p.ok
	return fmt.Sprintf("%5.0fs / %.0fs  %4d ok/s  ok %d  fail %d  info %d  fault: %s",
		time.Since(p.began).Seconds(), p.limit.Seconds(), rate, p.ok, p.fail, p.info, p.fault)
}

// start redraws the line every second on w while w is a terminal, and is
// silent otherwise. The returned function stops it and ends the line.
func (p *progress) start(w *os.File) func() {
	if !isTerminal(w) {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(w, "\r\033[K%s", p.line())
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		io.WriteString(w, "\r\033[K")
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
