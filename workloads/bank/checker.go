package bank

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/harness"
)

// Checker verifies the bank's invariant on every ok read: the snapshot
// holds exactly the accounts a0..a(N-1), their balances sum to the total,
// and none is negative. Transfers conserve the total whatever their
// outcome, so info transfers need no special account: a read is wrong
// only if the store broke the atomicity or isolation of a transaction, or
// lost or invented a write.
//
// A read that finds no account at all is wrong only if it began after an
// init had completed ok; before that the accounts may simply not exist
// yet, and such reads are counted as uninitialized.
//
// Verdict: false on any wrong read; unknown when no read found the
// accounts; true otherwise.
type Checker struct {
	// Accounts is the number of accounts, Total the sum of the balances.
	Accounts, Total int
}

// Name is "bank".
func (Checker) Name() string { return "bank" }

// WrongRead is a read that broke the invariant.
type WrongRead struct {
	// Op is the read's invocation index, Node where it ran, Revision the
	// store revision of its snapshot.
	Op       int    `json:"op"`
	Node     string `json:"node"`
	Revision int64  `json:"revision"`
	// Total is the sum it read; Missing and Extra the accounts it lacked
	// or had beyond a0..a(N-1); Negative the accounts below zero.
	Total    int            `json:"total"`
	Missing  []string       `json:"missing,omitempty"`
	Extra    []string       `json:"extra,omitempty"`
	Negative map[string]int `json:"negative,omitempty"`
}

// Details is what the bank checker reports in results.json.
type Details struct {
	// Reads, Transfers and Inits count ops by outcome.
	Reads     checker.Counts `json:"reads"`
	Transfers checker.Counts `json:"transfers"`
	Inits     checker.Counts `json:"inits"`
	// Uninitialized counts ok reads that found no account before any init
	// had completed.
	Uninitialized int `json:"uninitialized"`
	// WrongTotal, WrongAccounts and Negative count the reads with each
	// anomaly (one read may have several); Wrong lists every wrong read in
	// history order.
	WrongTotal    int         `json:"wrong_total"`
	WrongAccounts int         `json:"wrong_accounts"`
	Negative      int         `json:"negative"`
	Wrong         []WrongRead `json:"wrong,omitempty"`
}

// Check judges h. It writes nothing to out.
func (c Checker) Check(_ context.Context, h harness.History, _ string) harness.Result {
	d := &Details{}
	want := make([]string, c.Accounts)
	for i := range want {
		want[i] = Account(i)
	}
	initDone := -1 // index of the first ok init's completion
	judged := 0
	for _, p := range h.Pairs() {
		if !p.Invoke.IsClient() {
			continue
		}
		switch p.Invoke.F {
		case Init:
			d.Inits.Add(p)
			if p.Completion != nil && p.Completion.Type == harness.OK && initDone < 0 {
				initDone = p.Completion.Index
			}
		case Transfer:
			d.Transfers.Add(p)
		case Read:
			d.Reads.Add(p)
			if p.Completion == nil || p.Completion.Type != harness.OK {
				continue
			}
			var v ReadValue
			if err := p.Completion.DecodeValue(&v); err != nil {
				return harness.Result{Valid: harness.ValidUnknown, Summary: []string{"bank: cannot judge a malformed history: " + err.Error()}, Details: d}
			}
			if len(v.Balances) == 0 && (initDone < 0 || initDone > p.Invoke.Index) {
				d.Uninitialized++
				continue
			}
			judged++
			if w, bad := c.judge(p, v, want); bad {
				d.Wrong = append(d.Wrong, w)
				if w.Total != c.Total {
					d.WrongTotal++
				}
				if len(w.Missing)+len(w.Extra) > 0 {
					d.WrongAccounts++
				}
				if len(w.Negative) > 0 {
					d.Negative++
				}
			}
		}
	}
	valid := harness.ValidTrue
	switch {
	case len(d.Wrong) > 0:
		valid = harness.ValidFalse
	case judged == 0:
		valid = harness.ValidUnknown
	}
	return harness.Result{Valid: valid, Summary: c.summary(d, judged), Details: d}
}

// judge checks one read against the invariant.
func (c Checker) judge(p harness.Pair, v ReadValue, want []string) (WrongRead, bool) {
	w := WrongRead{Op: p.Invoke.Index, Node: p.Completion.Node, Revision: v.Revision}
	for _, a := range want {
		if _, ok := v.Balances[a]; !ok {
			w.Missing = append(w.Missing, a)
		}
	}
	for a, b := range v.Balances {
		w.Total += b
		if !slices.Contains(want, a) {
			w.Extra = append(w.Extra, a)
		}
		if b < 0 {
			if w.Negative == nil {
				w.Negative = map[string]int{}
			}
			w.Negative[a] = b
		}
	}
	sort.Strings(w.Extra)
	return w, w.Total != c.Total || len(w.Missing)+len(w.Extra)+len(w.Negative) > 0
}

// maxListed bounds the wrong reads the summary lists one by one.
const maxListed = 10

func (c Checker) summary(d *Details, judged int) []string {
	lines := []string{fmt.Sprintf("bank: %d accounts, total %d; transfers %s; reads judged: %d (before init: %d), wrong: %d",
		c.Accounts, c.Total, d.Transfers, judged, d.Uninitialized, len(d.Wrong))}
	if judged == 0 {
		lines = append(lines, "  no read found the accounts: nothing to judge")
	}
	if len(d.Wrong) > 0 {
		lines = append(lines, fmt.Sprintf("  reads with a wrong total: %d, a wrong account set: %d, a negative balance: %d", d.WrongTotal, d.WrongAccounts, d.Negative))
	}
	for i, w := range d.Wrong {
		if i == maxListed {
			lines = append(lines, fmt.Sprintf("  ... and %d more (results.json lists them all)", len(d.Wrong)-maxListed))
			break
		}
		var what []string
		if w.Total != c.Total {
			what = append(what, fmt.Sprintf("total %d", w.Total))
		}
		if len(w.Missing) > 0 {
			what = append(what, "missing "+strings.Join(w.Missing, ","))
		}
		if len(w.Extra) > 0 {
			what = append(what, "extra "+strings.Join(w.Extra, ","))
		}
		for _, a := range slices.Sorted(maps.Keys(w.Negative)) {
			what = append(what, fmt.Sprintf("negative %s=%d", a, w.Negative[a]))
		}
		lines = append(lines, fmt.Sprintf("  read op %d on %s at revision %d: %s", w.Op, w.Node, w.Revision, strings.Join(what, ", ")))
	}
	return lines
}
