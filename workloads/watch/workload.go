// Package watch checks etcd's watch streams: some processes write unique
// values to one key, the others watch it from a known revision, resuming
// from the revision after the last event they saw whenever their stream
// breaks, and after the final heal a fresh watch on every node replays
// the key's whole history. Checker verifies that every watcher saw the
// same revisions and values, in order, with no gap and no duplicate, and
// that they match the acknowledged writes.
//
// It needs the Watch API, which kvnode does not implement.
package watch

import (
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads"
)

// Defaults of ClientOptions.
const (
	// DefaultWindow is how long one watch op collects events.
	DefaultWindow = 500 * time.Millisecond
	// DefaultTimeout bounds each op.
	DefaultTimeout = 5 * time.Second
	// DefaultStartRevision is where every watch starts: the beginning of
	// a fresh cluster's history, so every watcher must see every write.
	DefaultStartRevision = 1
)

// ClientOptions configure a Client.
type ClientOptions struct {
	// Key is the key written and watched.
	Key string
	// StartRevision is the revision every watcher starts from; zero means
	// DefaultStartRevision.
	StartRevision int64
	// Window is how long a watch op collects events; zero means
	// DefaultWindow. It is cut short to end before the op's deadline.
	Window time.Duration
	// Timeout bounds each op; zero means DefaultTimeout.
	Timeout time.Duration
}

func (o ClientOptions) validate() (ClientOptions, error) {
	if o.StartRevision == 0 {
		o.StartRevision = DefaultStartRevision
	}
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.Key == "":
		return o, errors.New("watch: empty key")
	case o.StartRevision < 1:
		return o, fmt.Errorf("watch: start revision must be at least 1, got %d", o.StartRevision)
	case o.Window < 0 || o.Timeout < 0:
		return o, fmt.Errorf("watch: window and timeout must not be negative, got %v and %v", o.Window, o.Timeout)
	}
	return o, nil
}

// Definition describes the watch workload to faultline.
var Definition = workloads.Definition{
	Name:    "watch",
	Summary: "writes to one key watched from revision 1 on every node; every watcher must see every revision, in order",
	Needs:   []harness.API{harness.APIWatch},
	Writes:  []string{Write},
	Local:   []string{Watch, FinalWatch},
	Check: func(env workloads.Env) error {
		if env.Concurrency > 0 && env.Concurrency < 2 {
			return harness.BadFlag("concurrency", "the watch workload needs at least 2 client threads (half watch, the others write), got %d", env.Concurrency)
		}
		return nil
	},
	New: func(env workloads.Env) (workloads.Workload, error) {
		// A bare history re-checked without its test.json has no
		// concurrency; the checker does not need it.
		return New(Options{Concurrency: max(env.Concurrency, 2), Client: ClientOptions{Key: env.Prefix + "key", Timeout: env.OpTimeout}})
	},
}

// Options configure the workload.
type Options struct {
	// Concurrency is the run's number of client threads. Processes
	// 0..Concurrency/2-1 watch and the rest write, so it must be at least
	// 2. The runner numbers thread i's first process i.
	Concurrency int
	// Client configures every client.
	Client ClientOptions
}

// Workload is the watch workload. It implements harness.Workload and
// harness.Finisher.
type Workload struct {
	opts     Options
	watchers int
}

// New returns the workload, or an error naming the option that is wrong.
func New(opts Options) (*Workload, error) {
	if opts.Concurrency < 2 {
		return nil, fmt.Errorf("watch: needs at least 2 client threads, one to write and one to watch, got %d", opts.Concurrency)
	}
	c, err := opts.Client.validate()
	if err != nil {
		return nil, err
	}
	opts.Client = c
	return &Workload{opts: opts, watchers: opts.Concurrency / 2}, nil
}

// Name is "watch".
func (w *Workload) Name() string { return "watch" }

// Generator returns a fresh generator.
func (w *Workload) Generator() harness.Generator { return NewGenerator(w.watchers) }

// Checkers returns the watch checker.
func (w *Workload) Checkers() []harness.Checker {
	return []harness.Checker{Checker{StartRevision: w.opts.Client.StartRevision}}
}

// FinalOps returns one final watch per node.
func (w *Workload) FinalOps(nodes []harness.Node) []harness.Op { return FinalOps(nodes) }

// NewClient returns the client of one thread over cli, pinned to node. On
// success it owns cli.
func (w *Workload) NewClient(cli *clientv3.Client, node string) (harness.Client, error) {
	if cli == nil {
		return nil, errors.New("watch: nil clientv3 client")
	}
	return newClient(cli, node, w.opts.Client), nil
}
