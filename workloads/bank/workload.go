// Package bank is Jepsen's bank workload: N accounts hold a fixed total;
// processes transfer money between them with transactions guarded by
// each account's mod revision and read every balance in one snapshot.
// Checker verifies, read by read, that the total is conserved, that the
// account set is exactly the one created, and that no balance is
// negative: a store that breaks the atomicity or isolation of its
// transactions shows up as a wrong read.
package bank

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads"
)

// Defaults of the workload's shape: five accounts of 20, a total of 100.
const (
	DefaultAccounts = 5
	DefaultBalance  = 20
)

// Definition describes the bank workload to faultline.
var Definition = workloads.Definition{
	Name:    "bank",
	Summary: "Jepsen's bank: transfers between accounts in Txns, snapshot reads; the total must be conserved",
	Needs:   []harness.API{harness.APITxn},
	Writes:  []string{Init, Transfer},
	New: func(env workloads.Env) (workloads.Workload, error) {
		return New(Options{Client: ClientOptions{Prefix: env.Prefix, Timeout: env.OpTimeout, Serializable: env.Serializable}})
	},
}

// Options configure the workload.
type Options struct {
	// Client configures every client; zero Accounts and Balance mean the
	// defaults.
	Client ClientOptions
}

// Workload is the bank workload. It implements harness.Workload and
// harness.Finisher.
type Workload struct {
	opts Options
}

// New returns the workload, or an error naming the option that is wrong.
func New(opts Options) (*Workload, error) {
	if opts.Client.Accounts == 0 {
		opts.Client.Accounts = DefaultAccounts
	}
	if opts.Client.Balance == 0 {
		opts.Client.Balance = DefaultBalance
	}
	c, err := opts.Client.validate()
	if err != nil {
		return nil, err
	}
	opts.Client = c
	return &Workload{opts: opts}, nil
}

// Name is "bank".
func (w *Workload) Name() string { return "bank" }

// Generator returns a fresh generator: inits first, then reads and
// transfers.
func (w *Workload) Generator() harness.Generator { return NewGenerator(w.opts.Client.Accounts) }

// Checkers returns the bank checker.
func (w *Workload) Checkers() []harness.Checker {
	return []harness.Checker{Checker{Accounts: w.opts.Client.Accounts, Total: w.opts.Client.Accounts * w.opts.Client.Balance}}
}

// FinalOps returns one read per node.
func (w *Workload) FinalOps(nodes []harness.Node) []harness.Op { return FinalOps(nodes) }

// NewClient returns the client of one thread over cli, pinned to node.
func (w *Workload) NewClient(cli *clientv3.Client, node string) (harness.Client, error) {
	c, err := NewClient(cli, node, w.opts.Client)
	if err != nil {
		return nil, fmt.Errorf("bank: %w", err)
	}
	return c, nil
}
