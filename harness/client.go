package harness

import (
	"context"
	"math/rand"
	"time"
)

// Client performs ops against the store for one process. It is opened
// against one node (pinned, as in Jepsen) or against every node (failover).
type Client interface {
	// Invoke performs op and returns its completion: ok, fail or info,
	// with the result in Value and the reason in Error. It must return
	// once ctx is done; an op whose outcome is then unknown is info.
	Invoke(ctx context.Context, op Op) Op
	// Close releases the client's connections.
	Close() error
}

// Timeouter is a Client some of whose ops need another bound than the
// run's op timeout: a final replay whose length grows with the history,
// say. The runner asks it before each op it invokes.
type Timeouter interface {
	// OpTimeout returns how long op may take; def is the run's op
	// timeout. A result of zero or less keeps def.
	OpTimeout(op Op, def time.Duration) time.Duration
}

// Generator produces the invocations of a workload. It is deterministic for
// a given seed and call order; the runner owns timing and calls Next under a
// lock, so implementations need no locking of their own. ok is false when
// the generator has nothing more to offer this process.
type Generator interface {
	Next(r *rand.Rand, process Process) (op Op, ok bool)
}

// Observer is a Generator that wants to see completions, for example to
// retire a key after its ops are done. The runner calls Observe under the
// same lock as Next.
type Observer interface {
	Observe(completion Op)
}

// Workload is a generator, a client and the checkers that judge them.
type Workload interface {
	// Name is the --workload value.
	Name() string
	// Generator returns a fresh generator for one run.
	Generator() Generator
	// Checkers judge a history of this workload.
	Checkers() []Checker
}

// Finisher is a workload that performs final reads after the cluster has
// healed and recovered (set, bank). The ops it performs are recorded as any
// other op.
type Finisher interface {
	FinalOps(nodes []Node) []Op
}

// API is an etcd v3 API beyond plain KV that a workload needs of the
// store under test, and a target may lack.
type API string

// The APIs.
const (
	// APITxn is KV's Txn with compares.
	APITxn API = "Txn"
	// APILease is the Lease service (grants, keepalives, revokes).
	APILease API = "Lease"
	// APIWatch is the Watch service.
	APIWatch API = "Watch"
)

// AllAPIs lists every API, in the order messages name them.
var AllAPIs = []API{APITxn, APILease, APIWatch}
