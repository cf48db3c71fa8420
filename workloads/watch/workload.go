// Package watch checks etcd's watch guarantees (Ordered, Unique, Atomic,
// Bookmarkable, Reliable, Resumable, PrevKV, Filter): half the processes
// write to a few keys (puts, deletes, multi-key txns, and optionally
// compactions), the others watch them, one session after another, each a
// watch of the whole prefix, of one key or of a range, from now, from an
// old revision, from a future one or from revision 1, with or without
// previous key-values, filters and progress notifications, pinned to one
// node or failing over between all, resuming after the last revision it
// saw whenever its watch breaks; and after the final heal every node
// replays the prefix's whole history. Checker judges every watch against
// a reference history built from the acknowledged writes, every watch
// and the replays, each guarantee on its own.
//
// It needs the Watch API, which kvnode does not implement.
package watch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/workloads"
)

// Defaults of ClientOptions and of the workload's options.
const (
	// DefaultWindow is how long one watch op reads its stream.
	DefaultWindow = 500 * time.Millisecond
	// DefaultStartRevision is where a session of StartFirst starts, and
	// where final watches start: the beginning of a fresh cluster's
	// history.
	DefaultStartRevision = 1
	// DefaultKeys is how many keys the writers write.
	DefaultKeys = 4
	// DefaultCompactKeep is how many revisions a compaction keeps.
	DefaultCompactKeep = 100
	// CompactAtBehind compacts CompactKeep revisions behind the store's
	// revision.
	CompactAtBehind = "behind"
	// CompactAtDelete compacts on the newest revision, at least
	// CompactKeep behind the store's, at which the compacting client
	// deleted a key (a tombstone at the compact revision), when it has
	// one above its own last compaction; otherwise as CompactAtBehind.
	CompactAtDelete = "delete"
	// DefaultFinalPage is how many revisions one page of a final watch
	// covers.
	DefaultFinalPage = 5000
	// DefaultFinalTimeout bounds one page of a final watch (and its
	// read of the target revision).
	DefaultFinalTimeout = 10 * time.Second
	// DefaultFinalLimit bounds a whole final watch.
	DefaultFinalLimit = 10 * time.Minute
)

// ClientOptions configure a Client.
type ClientOptions struct {
	// Prefix holds every key the workload writes and watches.
	Prefix string
	// StartRevision is where StartFirst sessions and final watches
	// start; zero means DefaultStartRevision.
	StartRevision int64
	// Window is how long a watch op reads its stream; zero means
	// DefaultWindow. It is cut short to end before the op's deadline.
	Window time.Duration
	// CompactKeep is how many revisions below the store's a compaction
	// keeps (the option's default is DefaultCompactKeep).
	CompactKeep int64
	// CompactAt is where a compaction lands within that bound:
	// CompactAtBehind (the default, "") or CompactAtDelete.
	CompactAt string
	// FinalPage, FinalTimeout and FinalLimit shape final watches; zero
	// means DefaultFinalPage, DefaultFinalTimeout, DefaultFinalLimit.
	FinalPage    int64
	FinalTimeout time.Duration
	FinalLimit   time.Duration
	// Dial opens a client on endpoints, for the sessions that fail over;
	// nil uses the harness's targets.OpenClient.
	Dial func(ctx context.Context, endpoints []string) (*clientv3.Client, error)
}

func (o ClientOptions) validate() (ClientOptions, error) {
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.StartRevision, DefaultStartRevision)
	if o.CompactAt == "" {
		o.CompactAt = CompactAtBehind
	}
	def(&o.FinalPage, DefaultFinalPage)
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&o.Window, DefaultWindow}, {&o.FinalTimeout, DefaultFinalTimeout}, {&o.FinalLimit, DefaultFinalLimit}} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if o.Dial == nil {
		o.Dial = func(ctx context.Context, eps []string) (*clientv3.Client, error) {
			return targets.OpenClient(ctx, eps, targets.ClientOpts{})
		}
	}
	switch {
	case o.Prefix == "":
		return o, errors.New("watch: empty key prefix")
	case o.StartRevision < 1:
		return o, fmt.Errorf("watch: start revision must be at least 1, got %d", o.StartRevision)
	case o.CompactKeep < 0 || o.FinalPage < 1:
		return o, fmt.Errorf("watch: compact keep must not be negative and the final page must be at least 1, got %d and %d", o.CompactKeep, o.FinalPage)
	case o.CompactAt != CompactAtBehind && o.CompactAt != CompactAtDelete:
		return o, fmt.Errorf("watch: compact at must be %q or %q, got %q", CompactAtBehind, CompactAtDelete, o.CompactAt)
	case o.Window < 0 || o.FinalTimeout < 0 || o.FinalLimit < 0:
		return o, fmt.Errorf("watch: window and timeouts must not be negative, got %v, %v and %v", o.Window, o.FinalTimeout, o.FinalLimit)
	}
	return o, nil
}

// The workload's options: flags of `faultline test`.
var (
	// OptionKeys is how many keys the writers write.
	OptionKeys = harness.Option{Name: "watch-keys", Default: strconv.Itoa(DefaultKeys), Usage: "how many keys the watch workload writes (1 to 10); watches cover one, a range of two, or all", Check: harness.CheckInt(1, 10)}
	// OptionCompactEvery makes every n-th write op a compaction.
	OptionCompactEvery = harness.Option{Name: "watch-compact-every", Default: "0", Usage: "make every n-th write of the watch workload a compaction of the history up to watch-compact-keep revisions behind the store's; 0 never compacts", Check: harness.CheckInt(0, 1000000)}
	// OptionCompactKeep is how many revisions a compaction keeps.
	OptionCompactKeep = harness.Option{Name: "watch-compact-keep", Default: strconv.Itoa(DefaultCompactKeep), Usage: "how many revisions behind the store's a compaction of the watch workload keeps", Check: harness.CheckInt(0, 1000000)}
	// OptionCompactAt chooses the revision a compaction lands on.
	OptionCompactAt = harness.Option{Name: "watch-compact-at", Default: CompactAtBehind, Usage: "where a compaction of the watch workload lands: " + CompactAtBehind + " (watch-compact-keep revisions behind the store's) or " + CompactAtDelete + " (on the newest revision at least that far behind at which the compacting writer deleted a key, when it has one above its last compaction: a tombstone at the compacted revision, which etcd's mvcc treats as a case of its own)", Check: harness.CheckOneOf(CompactAtBehind, CompactAtDelete)}
	// OptionFinalPage is how many revisions a page of a final watch
	// covers.
	OptionFinalPage = harness.Option{Name: "watch-final-page", Default: strconv.Itoa(DefaultFinalPage), Usage: "how many revisions one page of a final watch replays; each page is a watch of its own", Check: harness.CheckInt(1, 10000000)}
	// OptionFinalTimeout bounds each page of a final watch.
	OptionFinalTimeout = harness.Option{Name: "watch-final-timeout", Default: strconv.Itoa(int(DefaultFinalTimeout / time.Second)), Usage: "seconds one page of a final watch may take", Check: harness.CheckWholeSeconds(1, 3600)}
	// OptionStarts chooses where rotating sessions watch from.
	OptionStarts = harness.Option{Name: "watch-starts", Default: strings.Join(Starts, ","), Usage: "where the watch workload's rotating sessions watch from: some of " + strings.Join(Starts, ", ") + " (the session of the first watcher always watches the whole prefix from revision 1)", Check: func(v string) error {
		_, err := ParseStarts(v)
		return err
	}}
	// OptionFinalLimit bounds a whole final watch.
	OptionFinalLimit = harness.Option{Name: "watch-final-limit", Default: strconv.Itoa(int(DefaultFinalLimit / time.Second)), Usage: "seconds a whole final watch (every page, on one node) may take", Check: harness.CheckWholeSeconds(1, 86400)}
)

// Definition describes the watch workload to faultline.
var Definition = workloads.Definition{
	Name:    "watch",
	Summary: "puts, deletes and txns watched by key, range and prefix, from every kind of revision, on every node; every etcd watch guarantee is judged on its own",
	Needs:   []harness.API{harness.APIWatch},
	Writes:  []string{Put, Delete, Txn, Compact},
	Local:   []string{Watch, FinalWatch},
	Options: []harness.Option{OptionKeys, OptionCompactEvery, OptionCompactKeep, OptionCompactAt, OptionStarts, OptionFinalPage, OptionFinalTimeout, OptionFinalLimit},
	Check: func(env workloads.Env) error {
		if env.Concurrency > 0 && env.Concurrency < 2 {
			return harness.BadFlag("concurrency", "the watch workload needs at least 2 client threads (half watch, the others write), got %d", env.Concurrency)
		}
		return nil
	},
	New: func(env workloads.Env) (workloads.Workload, error) {
		opts, err := optionsOf(env)
		if err != nil {
			return nil, err
		}
		return New(opts)
	},
}

// optionsOf reads env's option values, already validated.
func optionsOf(env workloads.Env) (Options, error) {
	ints := map[string]int{}
	for _, o := range []harness.Option{OptionKeys, OptionCompactEvery, OptionCompactKeep, OptionFinalPage} {
		n, err := strconv.Atoi(env.Options.Get(o.Name, o.Default))
		if err != nil {
			return Options{}, fmt.Errorf("watch: --%s: %w", o.Name, err)
		}
		ints[o.Name] = n
	}
	secs := map[string]time.Duration{}
	for _, o := range []harness.Option{OptionFinalTimeout, OptionFinalLimit} {
		d, err := harness.ParseWholeSeconds(env.Options.Get(o.Name, o.Default), 1, 86400)
		if err != nil {
			return Options{}, fmt.Errorf("watch: --%s: %w", o.Name, err)
		}
		secs[o.Name] = d
	}
	starts, err := ParseStarts(env.Options.Get(OptionStarts.Name, OptionStarts.Default))
	if err != nil {
		return Options{}, fmt.Errorf("watch: --%s: %w", OptionStarts.Name, err)
	}
	return Options{
		Starts: starts,
		// A bare history re-checked without its test.json has no
		// concurrency; the checker does not need it.
		Concurrency:  max(env.Concurrency, 2),
		Keys:         ints[OptionKeys.Name],
		CompactEvery: ints[OptionCompactEvery.Name],
		Client: ClientOptions{
			Prefix: env.Prefix, CompactKeep: int64(ints[OptionCompactKeep.Name]), CompactAt: env.Options.Get(OptionCompactAt.Name, OptionCompactAt.Default), FinalPage: int64(ints[OptionFinalPage.Name]),
			FinalTimeout: secs[OptionFinalTimeout.Name], FinalLimit: secs[OptionFinalLimit.Name],
		},
	}, nil
}

// Options configure the workload.
type Options struct {
	// Concurrency is the run's number of client threads. Processes
	// 0..Concurrency/2-1 watch and the rest write, so it must be at least
	// 2. The runner numbers thread i's first process i.
	Concurrency int
	// Keys is how many keys the writers write; zero means DefaultKeys.
	Keys int
	// CompactEvery makes every n-th write op a compaction; zero never
	// compacts.
	CompactEvery int
	// Starts are where rotating sessions watch from; nil means every
	// one of Starts.
	Starts []string
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
	if opts.Keys == 0 {
		opts.Keys = DefaultKeys
	}
	if opts.Keys < 0 || opts.CompactEvery < 0 {
		return nil, fmt.Errorf("watch: keys and compact-every must not be negative, got %d and %d", opts.Keys, opts.CompactEvery)
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
func (w *Workload) Generator() harness.Generator {
	return NewGenerator(w.watchers, w.opts.Keys, w.opts.CompactEvery, w.opts.Starts)
}

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
