package bank

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/register"
)

// DefaultTimeout bounds each op when ClientOptions.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// ClientOptions configure a Client.
type ClientOptions struct {
	// Prefix is where the accounts live: account a3 at Prefix+"a3", its
	// balance a decimal string.
	Prefix string
	// Accounts is the number of accounts; Balance each one's initial
	// balance.
	Accounts, Balance int
	// Timeout bounds each op; zero means DefaultTimeout.
	Timeout time.Duration
	// Serializable makes reads serializable (local) reads; they are still
	// one Range at one revision.
	Serializable bool
}

func (o ClientOptions) validate() (ClientOptions, error) {
	switch {
	case o.Prefix == "":
		return o, errors.New("bank client: empty key prefix")
	case o.Accounts < 2:
		return o, fmt.Errorf("bank client: need at least 2 accounts, got %d", o.Accounts)
	case o.Balance < 1:
		return o, fmt.Errorf("bank client: initial balance must be positive, got %d", o.Balance)
	case o.Timeout < 0:
		return o, fmt.Errorf("bank client: timeout must not be negative, got %v", o.Timeout)
	case o.Timeout == 0:
		o.Timeout = DefaultTimeout
	}
	return o, nil
}

// Account names the i-th account: "a<i>".
func Account(i int) string { return "a" + strconv.Itoa(i) }

// Client performs bank ops through etcd's clientv3 API. It implements
// harness.Client.
type Client struct {
	cli  *clientv3.Client
	node string
	opts ClientOptions
}

// NewClient returns a client over cli that records node on every
// completion. On success it owns cli: Close closes it.
func NewClient(cli *clientv3.Client, node string, opts ClientOptions) (*Client, error) {
	if cli == nil {
		return nil, errors.New("bank client: nil clientv3 client")
	}
	opts, err := opts.validate()
	if err != nil {
		return nil, err
	}
	return &Client{cli: cli, node: node, opts: opts}, nil
}

// Invoke performs an init, a transfer or a read:
//
//   - init: a Txn that creates every account if none exists; ok when it
//     did (value {"created": true}) or when all already existed
//     ({"created": false}); fail when only some exist.
//   - transfer: one Range of all accounts, then a Txn that writes both
//     new balances if neither account's mod revision has changed. fail
//     when the accounts do not exist, the balance is short, or the
//     compare failed: in each case nothing was written.
//   - read: one Range over the prefix, so every balance is from the same
//     revision; ok with a ReadValue.
//
// Errors follow register.Outcome: a read fails, an init or a transfer is
// info unless the error proves it never took effect.
func (c *Client) Invoke(ctx context.Context, op harness.Op) harness.Op {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var done harness.Op
	var err error
	switch op.F {
	case Init:
		done, err = c.init(ctx, op)
	case Transfer:
		done, err = c.transfer(ctx, op)
	case Read:
		done, err = c.read(ctx, op)
	default:
		done = failed(op, fmt.Sprintf("unknown bank f %q (want %s, %s or %s)", op.F, Init, Transfer, Read))
	}
	if err != nil {
		done = op.Completion(register.Outcome(op.F != Read, err))
		done.Error = err.Error()
	}
	done.Node = c.node
	return done
}

func (c *Client) key(account string) string { return c.opts.Prefix + account }

func (c *Client) init(ctx context.Context, op harness.Op) (harness.Op, error) {
	var absent []clientv3.Cmp
	var puts []clientv3.Op
	for i := range c.opts.Accounts {
		k := c.key(Account(i))
		absent = append(absent, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
		puts = append(puts, clientv3.OpPut(k, strconv.Itoa(c.opts.Balance)))
	}
	resp, err := c.cli.Txn(ctx).If(absent...).Then(puts...).
		Else(clientv3.OpGet(c.opts.Prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())).Commit()
	if err != nil {
		return op, fmt.Errorf("init accounts: %w", err)
	}
	done := op.Completion(harness.OK)
	done.Revision = resp.Header.Revision
	if resp.Succeeded {
		done.Value = harness.MustValue(map[string]bool{"created": true})
		return done, nil
	}
	if n := resp.Responses[0].GetResponseRange().Count; n != int64(c.opts.Accounts) {
		return failed(op, fmt.Sprintf("init: %d of %d accounts exist", n, c.opts.Accounts)), nil
	}
	done.Value = harness.MustValue(map[string]bool{"created": false})
	return done, nil
}

// account is one balance as a transfer reads it.
type account struct {
	balance int
	modRev  int64
}

func (c *Client) transfer(ctx context.Context, op harness.Op) (harness.Op, error) {
	var t TransferValue
	if err := op.DecodeValue(&t); err != nil {
		return failed(op, err.Error()), nil
	}
	resp, err := c.cli.Get(ctx, c.opts.Prefix, clientv3.WithPrefix())
	if err != nil {
		// Nothing is written before the Txn: a certain failure.
		return failed(op, fmt.Sprintf("read accounts: %v", err)), nil
	}
	accounts := map[string]account{}
	for _, kv := range resp.Kvs {
		b, err := strconv.Atoi(string(kv.Value))
		if err != nil {
			return failed(op, fmt.Sprintf("account %s holds %q, not a balance", kv.Key, kv.Value)), nil
		}
		accounts[strings.TrimPrefix(string(kv.Key), c.opts.Prefix)] = account{balance: b, modRev: kv.ModRevision}
	}
	from, okFrom := accounts[t.From]
	to, okTo := accounts[t.To]
	switch {
	case !okFrom || !okTo:
		return failed(op, "accounts not initialized"), nil
	case from.balance < t.Amount:
		return failed(op, fmt.Sprintf("insufficient funds: %s has %d", t.From, from.balance)), nil
	}
	txn, err := c.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(c.key(t.From)), "=", from.modRev),
			clientv3.Compare(clientv3.ModRevision(c.key(t.To)), "=", to.modRev)).
		Then(clientv3.OpPut(c.key(t.From), strconv.Itoa(from.balance-t.Amount)),
			clientv3.OpPut(c.key(t.To), strconv.Itoa(to.balance+t.Amount))).
		Commit()
	if err != nil {
		return op, fmt.Errorf("transfer %d from %s to %s: %w", t.Amount, t.From, t.To, err)
	}
	if !txn.Succeeded {
		return failed(op, "conflict: an account changed since it was read"), nil
	}
	done := op.Completion(harness.OK)
	done.Revision = txn.Header.Revision
	return done, nil
}

func (c *Client) read(ctx context.Context, op harness.Op) (harness.Op, error) {
	opts := []clientv3.OpOption{clientv3.WithPrefix()}
	if c.opts.Serializable {
		opts = append(opts, clientv3.WithSerializable())
	}
	resp, err := c.cli.Get(ctx, c.opts.Prefix, opts...)
	if err != nil {
		return op, fmt.Errorf("read accounts: %w", err)
	}
	v := ReadValue{Revision: resp.Header.Revision, Balances: map[string]int{}}
	for _, kv := range resp.Kvs {
		b, err := strconv.Atoi(string(kv.Value))
		if err != nil {
			return failed(op, fmt.Sprintf("account %s holds %q, not a balance", kv.Key, kv.Value)), nil
		}
		v.Balances[strings.TrimPrefix(string(kv.Key), c.opts.Prefix)] = b
	}
	done := op.Completion(harness.OK)
	done.Value = harness.MustValue(v)
	return done, nil
}

func failed(op harness.Op, reason string) harness.Op {
	done := op.Completion(harness.Fail)
	done.Error = reason
	return done
}

// Close closes the clientv3 client.
func (c *Client) Close() error {
	if err := c.cli.Close(); err != nil {
		return fmt.Errorf("close bank client on %s: %w", c.node, err)
	}
	return nil
}
