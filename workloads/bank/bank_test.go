package bank

import (
	"context"
	"encoding/json"
	"math/rand"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/checker/fixture"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/internal/etcdtest"
)

// TestFixtures: accept-* histories are valid, reject-* invalid with the
// wrong reads listed by op index.
func TestFixtures(t *testing.T) {
	fixture.Run(t, "testdata/*.txt", Checker{Accounts: 3, Total: 30})
}

func TestGenerator(t *testing.T) {
	g := NewGenerator(4)
	r := rand.New(rand.NewSource(3))
	op, _ := g.Next(r, 0)
	require.Equal(t, Init, op.F)
	g.Observe(harness.Op{F: Init, Type: harness.Info})
	op, _ = g.Next(r, 1)
	require.Equal(t, Init, op.F, "an info init proves nothing: keep initializing")
	g.Observe(harness.Op{F: Init, Type: harness.OK})
	fs := map[string]int{}
	for range 1000 {
		op, _ := g.Next(r, 0)
		fs[op.F]++
		if op.F == Transfer {
			var v TransferValue
			require.NoError(t, op.DecodeValue(&v))
			require.NotEqual(t, v.From, v.To)
			require.GreaterOrEqual(t, v.Amount, 1)
			require.LessOrEqual(t, v.Amount, maxAmount)
		}
	}
	require.InDelta(t, 500, fs[Read], 60)
	require.InDelta(t, 500, fs[Transfer], 60)

	// The same seed draws the same ops.
	a, b := NewGenerator(4), NewGenerator(4)
	a.initialized, b.initialized = true, true
	ra, rb := rand.New(rand.NewSource(9)), rand.New(rand.NewSource(9))
	for range 50 {
		x, _ := a.Next(ra, 0)
		y, _ := b.Next(rb, 0)
		require.Equal(t, x, y)
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New(Options{Client: ClientOptions{Prefix: "/b/", Accounts: 1}})
	require.ErrorContains(t, err, "at least 2 accounts")
	_, err = New(Options{})
	require.ErrorContains(t, err, "prefix")
	w, err := New(Options{Client: ClientOptions{Prefix: "/b/"}})
	require.NoError(t, err)
	c := w.Checkers()[0].(Checker)
	require.Equal(t, Checker{Accounts: DefaultAccounts, Total: DefaultAccounts * DefaultBalance}, c)
}

func do(t *testing.T, c *Client, f string, value any) harness.Op {
	t.Helper()
	op := harness.Op{Type: harness.Invoke, F: f}
	if value != nil {
		op.Value = harness.MustValue(value)
	}
	return c.Invoke(context.Background(), op)
}

// TestClientAgainstEtcd walks the client through init, transfers and
// reads against a real etcd.
func TestClientAgainstEtcd(t *testing.T) {
	s := etcdtest.Start(t)
	cli := s.Dial(t)
	c, err := NewClient(cli, "n1", ClientOptions{Prefix: "/bank/", Accounts: 3, Balance: 10})
	require.NoError(t, err)
	defer c.Close()

	require.Equal(t, harness.Fail, do(t, c, Transfer, TransferValue{"a0", "a1", 1}).Type, "no accounts yet")
	read := do(t, c, Read, nil)
	require.Equal(t, harness.OK, read.Type)
	require.Contains(t, string(read.Value), `"balances":{}`)

	init := do(t, c, Init, nil)
	require.Equal(t, harness.OK, init.Type, init.Error)
	require.JSONEq(t, `{"created":true}`, string(init.Value))
	again := do(t, c, Init, nil)
	require.Equal(t, harness.OK, again.Type)
	require.JSONEq(t, `{"created":false}`, string(again.Value))

	moved := do(t, c, Transfer, TransferValue{"a0", "a1", 4})
	require.Equal(t, harness.OK, moved.Type)
	require.Greater(t, moved.Revision, init.Revision, "an acknowledged transfer records its write's revision, for the replicas checker")
	require.Positive(t, init.Revision)
	short := do(t, c, Transfer, TransferValue{"a0", "a2", 7})
	require.Equal(t, harness.Fail, short.Type)
	require.Contains(t, short.Error, "insufficient funds")

	read = do(t, c, Read, nil)
	var v ReadValue
	require.NoError(t, json.Unmarshal(read.Value, &v))
	require.Equal(t, map[string]int{"a0": 6, "a1": 14, "a2": 10}, v.Balances)
	require.Positive(t, v.Revision)

	_, err = cli.Delete(context.Background(), "/bank/a2")
	require.NoError(t, err)
	partial := do(t, c, Init, nil)
	require.Equal(t, harness.Fail, partial.Type)
	require.Contains(t, partial.Error, "2 of 3 accounts")
}

// TestWorkloadAgainstEtcd runs concurrent transfers through the runner:
// guarded by mod revisions they conserve the total, and the checker says
// so. Then a write behind the workload's back breaks the total and the
// checker names the read.
func TestWorkloadAgainstEtcd(t *testing.T) {
	s := etcdtest.Start(t)
	w, err := New(Options{Client: ClientOptions{Prefix: "/run/"}})
	require.NoError(t, err)
	h := s.Run(t, w, etcdtest.RunOptions{Concurrency: 5, TimeLimit: 1500 * time.Millisecond})
	res := w.Checkers()[0].Check(context.Background(), h, "")
	require.Equal(t, harness.ValidTrue, res.Valid, res.Summary)
	d := res.Details.(*Details)
	require.Positive(t, d.Transfers.OK, res.Summary)
	require.GreaterOrEqual(t, d.Reads.OK, 3, "3 final reads at least")

	cli := s.Dial(t)
	defer cli.Close()
	_, err = cli.Put(context.Background(), "/run/a1", strconv.Itoa(1000))
	require.NoError(t, err)
	h = s.Run(t, w, etcdtest.RunOptions{Concurrency: 2, TimeLimit: 300 * time.Millisecond})
	res = w.Checkers()[0].Check(context.Background(), h, "")
	require.Equal(t, harness.ValidFalse, res.Valid)
	require.Contains(t, res.Summary[1], "reads with a wrong total")
	require.Positive(t, res.Details.(*Details).WrongTotal)
}
