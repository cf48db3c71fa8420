// Package workloads says what a workload is: a Definition describes one
// once (its name, what it needs of the target, which of its ops are
// writes, its options, how to build it), and a Workload is one run's
// generator, clients and checkers. The workloads themselves live in the
// packages below: register, set, bank, lock, watch. Each exports its
// Definition; package faultline lists them.
package workloads

import (
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
)

// Definition describes one workload.
type Definition struct {
	// Name is the --workload value.
	Name string
	// Summary says in a few words what it checks, for --help.
	Summary string
	// Needs are the APIs beyond plain KV it needs of the target.
	Needs []harness.API
	// Writes are the fs that change the store's state: the availability
	// checker expects a majority to keep accepting them and a minority to
	// refuse them.
	Writes []string
	// Local are the fs that need no quorum (an op on the harness's memory,
	// a watch that may end ok and empty on a node cut off): the
	// availability checker does not see them, since an ok one on a
	// minority proves nothing.
	Local []string
	// Revisions says its client records each op's revisions
	// (harness.Op.Revision, ModRevision), so the revisions checker judges
	// them.
	Revisions bool
	// Options are its own settings, as flags of `faultline test`; their
	// values are stored in Spec.WorkloadOptions.
	Options []harness.Option
	// Check says what is wrong with env for this workload beyond its
	// options (too few client threads, say), as a harness.FlagError; nil
	// accepts every env.
	Check func(env Env) error
	// New builds one run's workload from env.
	New func(env Env) (Workload, error)
}

// Env is what a workload is built from for one run.
type Env struct {
	// Prefix is where the workload keeps its keys: /faultline/<name>/<seed>/.
	Prefix string
	// Seed is the run's seed.
	Seed int64
	// Concurrency is the run's number of client threads; 0 for a history
	// checked without its test.json.
	Concurrency int
	// OpTimeout bounds each client op.
	OpTimeout time.Duration
	// CheckTimeout bounds a checker that may run out of time
	// (linearizability).
	CheckTimeout time.Duration
	// Serializable makes reads serializable instead of linearizable.
	Serializable bool
	// Options are the workload's option values, validated; a missing one
	// takes its default (harness.Options.Get with the option's Default).
	Options harness.Options
}

// Workload is one run's workload: the runner's generator and checkers,
// and a client per thread over a clientv3 client.
type Workload interface {
	harness.Workload
	// NewClient returns the client of one thread over cli, pinned to node
	// (or harness.FailoverNode). On success it owns cli.
	NewClient(cli *clientv3.Client, node string) (harness.Client, error)
}

// FinalOps are the ops w performs after the final heal, if it is a
// harness.Finisher.
func FinalOps(w harness.Workload, nodes []harness.Node) []harness.Op {
	if f, ok := w.(harness.Finisher); ok {
		return f.FinalOps(nodes)
	}
	return nil
}
