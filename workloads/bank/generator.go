package bank

import (
	"math/rand"

	"github.com/faultline/faultline/harness"
)

// Op functions of the bank workload.
const (
	// Init creates every account with its initial balance, unless they
	// already exist; it completes ok once they do.
	Init = "init"
	// Transfer moves an amount between two accounts; its value is a
	// TransferValue.
	Transfer = "transfer"
	// Read reads every account at one revision; it completes with a
	// ReadValue. The final reads after the heal are reads too.
	Read = "read"
)

// TransferValue is the value of a transfer.
type TransferValue struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Amount int    `json:"amount"`
}

// ReadValue is the value of a completed read: the store's revision of the
// snapshot and every account's balance at it.
type ReadValue struct {
	Revision int64          `json:"revision"`
	Balances map[string]int `json:"balances"`
}

// maxAmount bounds a transfer's amount: transfers of 1..maxAmount, small
// against the initial balances, so that most succeed and balances wander.
const maxAmount = 5

// Generator issues init until one init has completed ok, then reads and
// transfers half and half, as Jepsen's bank does. Transfers move 1 to 5
// between two distinct accounts drawn at random. The ops drawn are a
// function of the seed and of the order of calls to Next and Observe,
// which the runner serializes.
type Generator struct {
	accounts    int
	initialized bool
}

// NewGenerator returns a generator over n accounts.
func NewGenerator(accounts int) *Generator { return &Generator{accounts: accounts} }

// Next returns the next op.
func (g *Generator) Next(r *rand.Rand, _ harness.Process) (harness.Op, bool) {
	if !g.initialized {
		return harness.Op{F: Init}, true
	}
	if r.Intn(2) == 0 {
		return harness.Op{F: Read}, true
	}
	from := r.Intn(g.accounts)
	to := (from + 1 + r.Intn(g.accounts-1)) % g.accounts
	v := TransferValue{From: Account(from), To: Account(to), Amount: 1 + r.Intn(maxAmount)}
	return harness.Op{F: Transfer, Value: harness.MustValue(v)}, true
}

// Observe notes the first ok init: from then on the accounts exist.
func (g *Generator) Observe(done harness.Op) {
	if done.F == Init && done.Type == harness.OK {
		g.initialized = true
	}
}

// FinalOps returns one read per node, taken after the final heal.
func FinalOps(nodes []harness.Node) []harness.Op {
	ops := make([]harness.Op, len(nodes))
	for i, n := range nodes {
		ops[i] = harness.Op{F: Read, Node: n.Name}
	}
	return ops
}
