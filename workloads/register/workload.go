// Package register is Jepsen's independent-key cas-register workload:
// processes read, write and compare-and-set small integers on many
// independent keys, and every key's history is checked for
// linearizability against a cas-register model.
//
// The pieces: Generator draws the ops, Client performs them through etcd's
// clientv3 API, Model is the register's sequential specification for
// checker/linearizable, and Workload ties them together for the runner.
package register

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/checker/linearizable"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads"
)

// Definition describes the register workload to faultline.
var Definition = workloads.Definition{
	Name:      "register",
	Summary:   "Jepsen's independent-key cas-register: read, write and cas on many keys, checked for linearizability",
	Needs:     []harness.API{harness.APITxn},
	Writes:    []string{Write, CAS},
	Revisions: true,
	New: func(env workloads.Env) (workloads.Workload, error) {
		return New(Options{
			Check:  linearizable.Options{Timeout: env.CheckTimeout},
			Client: ClientOptions{Timeout: env.OpTimeout, Serializable: env.Serializable},
		})
	},
}

// Options configure the workload.
type Options struct {
	// Generator shapes the ops: how many per key, how many processes share
	// a key.
	Generator GeneratorOptions
	// Check bounds the linearizability check.
	Check linearizable.Options
	// Client configures every client.
	Client ClientOptions
}

// Workload is the register workload. It implements harness.Workload.
type Workload struct {
	opts    Options
	checker *linearizable.Checker
}

// New returns the workload, or an error naming the option that is wrong.
func New(opts Options) (*Workload, error) {
	gen, err := opts.Generator.withDefaults()
	if err != nil {
		return nil, err
	}
	opts.Generator = gen
	c, err := linearizable.New(Model(), opts.Check)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	return &Workload{opts: opts, checker: c}, nil
}

// Name is "register".
func (w *Workload) Name() string { return "register" }

// Generator returns a fresh generator, with no key opened yet.
func (w *Workload) Generator() harness.Generator {
	return newGenerator(w.opts.Generator)
}

// FinalOps reads the first key, r0, once on every node after the final
// heal and recovery, as Jepsen's final reads do. r0 was retired long
// before, so each read must return its last value: a node that lost or
// never learnt an acknowledged write shows in r0's history. The reads also
// show when each node answered a linearizable read again after the final
// heal, which is what the availability checker's recovery needs for a
// fault that lasted until the end of the workload. It makes Workload a
// harness.Finisher.
func (w *Workload) FinalOps(nodes []harness.Node) []harness.Op {
	ops := make([]harness.Op, 0, len(nodes))
	for _, n := range nodes {
		ops = append(ops, harness.Op{Type: harness.Invoke, F: Read, Key: Key(0), Node: n.Name})
	}
	return ops
}

// NewClient returns the client of one thread over cli, pinned to node. On
// success it owns cli.
func (w *Workload) NewClient(cli *clientv3.Client, node string) (harness.Client, error) {
	c, err := NewClient(cli, node, w.opts.Client)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Checkers returns the linearizability checker with the register's model.
func (w *Workload) Checkers() []harness.Checker {
	return []harness.Checker{w.checker}
}
