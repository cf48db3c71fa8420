package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// progress keeps the figures of the live progress line: elapsed time
// against the limit, ok ops/s, ok/fail/info counts and the faults in force,
// with the nodes they hit.
type progress struct {
	mu              sync.Mutex
	limit           time.Duration
	began           time.Time
	ok, fail, info  int
	faults          map[string]string // kind -> label, e.g. partition -> "partition n1 | n2,n3"
	lastOK, lastTic int
}

func newProgress(limit time.Duration) *progress {
	return &progress{limit: limit, began: time.Now(), faults: map[string]string{}}
}

// record counts one op; it is the recorder's hook, so it must be quick.
func (p *progress) record(op harness.Op) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !op.IsClient() {
		if op.Type != harness.Invoke {
			p.nemesis(op)
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

// nemesis follows the faults in force from the nemesis's completions, as
// fault.Windows reads their windows.
func (p *progress) nemesis(done harness.Op) {
	k, edge := fault.Of(done.F)
	switch {
	case edge == fault.Opens && !k.Points:
		p.faults[k.Name] = fault.Label(k.Name, harness.Pair{Invoke: done, Completion: &done})
	case edge == fault.Closes:
		delete(p.faults, k.Name)
	case edge == fault.HealsAll:
		clear(p.faults)
	}
}

// faultText renders the faults in force, or "none".
func (p *progress) faultText() string {
	if len(p.faults) == 0 {
		return "none"
	}
	var labels []string
	for _, kind := range slices.Sorted(maps.Keys(p.faults)) {
		labels = append(labels, p.faults[kind])
	}
	return strings.Join(labels, " + ")
}

func (p *progress) line() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	rate := p.ok - p.lastOK
	p.lastOK = p.ok
	return fmt.Sprintf("%5.0fs / %.0fs  %4d ok/s  ok %d  fail %d  info %d  fault: %s",
		time.Since(p.began).Seconds(), p.limit.Seconds(), rate, p.ok, p.fail, p.info, p.faultText())
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

// isTerminal reports whether f is a terminal. A character device is not
// enough: /dev/null is one too, and a line redrawn with \r into a file or
// a CI log is noise.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
