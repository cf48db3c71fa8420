// Package lock is Jepsen's lock workloads on etcd's concurrency.Mutex: a
// lock held through a session lease guards a set, and the checkers ask
// whether the lock excluded (Checker: no two processes believed they held
// it at once) and whether the set it guards lost updates (checker.Set).
//
// Two variants share the lock and differ in the set:
//
//   - lock-set: the set lives in the harness's memory. Nothing but the
//     lock protects its read-modify-write, so every lapse of mutual
//     exclusion can lose an update.
//   - lock-etcd-set: the set lives in etcd, and each write is a Txn that
//     applies only while the writer's lock key still exists with its
//     create revision: the lock's revision fences the write. A holder
//     whose lease expired behind its back is refused instead of
//     clobbering its successor's update.
//
// Neither runs on a store without leases and watches (kvnode).
package lock

import (
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads"
)

// The variants, the --workload values.
const (
	VariantMemory = "lock-set"
	VariantEtcd   = "lock-etcd-set"
)

// Defaults of ClientOptions.
const (
	// DefaultTTL is the session lease TTL, as Jepsen's etcd lock test
	// uses. A holder cut off from the leader loses the lock this long
	// after its last keepalive.
	DefaultTTL = 2 * time.Second
	// DefaultHold is the pause between reading the guarded set and
	// writing it back: the window in which a second holder loses an
	// update.
	DefaultHold = 20 * time.Millisecond
	// DefaultTimeout bounds each op.
	DefaultTimeout = 5 * time.Second
)

// ClientOptions configure a Client.
type ClientOptions struct {
	// Prefix is where the lock's keys (Prefix+"lock/...") and the
	// etcd-held set (Prefix+"set") live.
	Prefix string
	// TTL is the session lease's TTL, in whole seconds, at least 1. Zero
	// means DefaultTTL.
	TTL time.Duration
	// Hold is the pause inside an add; zero means DefaultHold.
	Hold time.Duration
	// Timeout bounds each op; zero means DefaultTimeout.
	Timeout time.Duration
	// Serializable makes the final reads of the etcd-held set serializable.
	Serializable bool
}

func (o ClientOptions) validate() (ClientOptions, error) {
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.Hold == 0 {
		o.Hold = DefaultHold
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.Prefix == "":
		return o, errors.New("lock: empty key prefix")
	case o.TTL < time.Second || o.TTL%time.Second != 0:
		return o, fmt.Errorf("lock: the lease TTL must be a whole number of seconds, at least 1 (etcd leases count in seconds), got %v", o.TTL)
	case o.Hold < 0 || o.Timeout < 0:
		return o, fmt.Errorf("lock: hold and timeout must not be negative, got %v and %v", o.Hold, o.Timeout)
	}
	return o, nil
}

// ttlOption is --lock-ttl, shared by both variants.
var ttlOption = harness.Option{
	Name: "lock-ttl", Default: "2",
	Usage: "session lease TTL of lock-set and lock-etcd-set, in whole seconds from 1 to 3600 (etcd grants leases in whole seconds)",
	Check: harness.CheckWholeSeconds(1, 3600),
}

// definition describes one variant to faultline.
func definition(variant, summary string, writes, local []string) workloads.Definition {
	return workloads.Definition{
		Name: variant, Summary: summary,
		Needs:   []harness.API{harness.APILease, harness.APIWatch, harness.APITxn},
		Writes:  writes,
		Local:   local,
		Options: []harness.Option{ttlOption},
		New: func(env workloads.Env) (workloads.Workload, error) {
			ttl, err := harness.ParseWholeSeconds(env.Options.Get(ttlOption.Name, ttlOption.Default), 1, 3600)
			if err != nil {
				return nil, fmt.Errorf("lock: --%s: %w", ttlOption.Name, err)
			}
			return New(Options{Variant: variant, Client: ClientOptions{Prefix: env.Prefix, TTL: ttl, Timeout: env.OpTimeout, Serializable: env.Serializable}})
		},
	}
}

// The definitions of the two variants. In lock-set the add works on the
// harness's memory, so it needs no quorum; in lock-etcd-set it is a
// fenced write to etcd.
var (
	SetDefinition = definition(VariantMemory, "Jepsen's lock: etcd's concurrency.Mutex guards a set in the harness's memory; two holders at once fail it",
		[]string{Acquire, Release}, []string{Add})
	EtcdSetDefinition = definition(VariantEtcd, "the lock with its writes fenced by the lock key's revision; a guarded write after a later acquire fails it",
		[]string{Acquire, Add, Release}, nil)
)

// Options configure the workload.
type Options struct {
	// Variant is VariantMemory or VariantEtcd.
	Variant string
	// Client configures every client.
	Client ClientOptions
}

// Workload is a lock workload. It implements harness.Workload and
// harness.Finisher. Its clients share the in-memory set of lock-set, so
// one run must open every client, final ones included, from one Workload.
type Workload struct {
	opts   Options
	memory *memorySet
}

// New returns the workload, or an error naming the option that is wrong.
func New(opts Options) (*Workload, error) {
	if opts.Variant != VariantMemory && opts.Variant != VariantEtcd {
		return nil, fmt.Errorf("lock: variant must be %s or %s, got %q", VariantMemory, VariantEtcd, opts.Variant)
	}
	c, err := opts.Client.validate()
	if err != nil {
		return nil, err
	}
	opts.Client = c
	return &Workload{opts: opts, memory: &memorySet{}}, nil
}

// Name is the variant.
func (w *Workload) Name() string { return w.opts.Variant }

// Generator returns a fresh generator.
func (w *Workload) Generator() harness.Generator { return NewGenerator() }

// Checkers returns the mutual-exclusion checker and the set checker of
// the guarded set.
func (w *Workload) Checkers() []harness.Checker {
	return []harness.Checker{Checker{Fenced: w.opts.Variant == VariantEtcd}, checker.Set{Title: "guarded-set", AddF: Add, ReadF: FinalRead}}
}

// FinalOps reads the guarded set: once for the in-memory set, which has
// no nodes, and once per node for the etcd-held one.
func (w *Workload) FinalOps(nodes []harness.Node) []harness.Op {
	if len(nodes) == 0 {
		return nil
	}
	if w.opts.Variant == VariantMemory {
		nodes = nodes[:1]
	}
	ops := make([]harness.Op, len(nodes))
	for i, n := range nodes {
		ops[i] = harness.Op{F: FinalRead, Node: n.Name}
	}
	return ops
}

// NewClient returns the client of one thread over cli, pinned to node. On
// success it owns cli.
func (w *Workload) NewClient(cli *clientv3.Client, node string) (harness.Client, error) {
	if cli == nil {
		return nil, errors.New("lock: nil clientv3 client")
	}
	var guarded guardedSet = w.memory
	if w.opts.Variant == VariantEtcd {
		guarded = &etcdSet{cli: cli, key: w.opts.Client.Prefix + "set", serializable: w.opts.Client.Serializable}
	}
	return newClient(cli, node, w.opts.Client, guarded), nil
}
