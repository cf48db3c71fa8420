// Package set is Jepsen's set workload: processes add unique elements,
// and after the cluster has healed a final read on every node says which
// survived. checker.Set sorts every element into lost, unexpected,
// recovered or absent, and flags stale final reads.
//
// Two ways of storing the set are offered (ClientOptions.Mode): one key
// per element, where an add is a blind Put, and one key holding the whole
// list, where an add is a read and a compare-and-set append, as Jepsen's
// etcd set does.
package set

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads"
)

// modeOption is --set-mode.
var modeOption = harness.Option{
	Name: "set-mode", Default: ModeKeys,
	Usage: "how the set workload stores its set: keys (a key per element, an add is a Put) or append (one key, an add is a CAS-append guarded by its mod revision)",
	Check: harness.CheckOneOf(Modes...),
}

// Definition describes the set workload to faultline.
var Definition = workloads.Definition{
	Name:    "set",
	Summary: "Jepsen's set: unique adds, a final read on every node; lost and unexpected elements",
	Needs:   []harness.API{harness.APITxn},
	Writes:  []string{Add},
	Options: []harness.Option{modeOption},
	New: func(env workloads.Env) (workloads.Workload, error) {
		return New(Options{Client: ClientOptions{
			Prefix: env.Prefix, Mode: env.Options.Get(modeOption.Name, modeOption.Default),
			Timeout: env.OpTimeout, Serializable: env.Serializable,
		}})
	},
}

// Options configure the workload.
type Options struct {
	// Client configures every client.
	Client ClientOptions
}

// Workload is the set workload. It implements harness.Workload and
// harness.Finisher.
type Workload struct {
	opts Options
}

// New returns the workload, or an error naming the option that is wrong.
func New(opts Options) (*Workload, error) {
	c, err := opts.Client.validate()
	if err != nil {
		return nil, err
	}
	opts.Client = c
	return &Workload{opts: opts}, nil
}

// Name is "set".
func (w *Workload) Name() string { return "set" }

// Generator returns a fresh generator, starting at element 0.
func (w *Workload) Generator() harness.Generator { return NewGenerator() }

// Checkers returns the set checker.
func (w *Workload) Checkers() []harness.Checker {
	return []harness.Checker{checker.Set{Title: "set", AddF: Add, ReadF: FinalRead}}
}

// FinalOps returns one final read per node.
func (w *Workload) FinalOps(nodes []harness.Node) []harness.Op { return FinalOps(nodes) }

// NewClient returns the client of one thread over cli, pinned to node.
func (w *Workload) NewClient(cli *clientv3.Client, node string) (harness.Client, error) {
	c, err := NewClient(cli, node, w.opts.Client)
	if err != nil {
		return nil, fmt.Errorf("set: %w", err)
	}
	return c, nil
}
