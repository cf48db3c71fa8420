package register

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/harness"
)

// KeyPrefix is where the register's keys live in the store: key r12 is
// stored at /faultline/register/r12, its value a decimal string.
const KeyPrefix = "/faultline/register/"

// DefaultTimeout bounds each op when ClientOptions.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// ClientOptions configure a Client.
type ClientOptions struct {
	// Timeout bounds each op, on top of any deadline of the context the
	// runner passes. Zero means DefaultTimeout.
	Timeout time.Duration
	// Serializable makes reads serializable: served from the local node's
	// state without a ReadIndex round to the leader. They stay available in
	// a minority but may be stale, which the checker then reports.
	Serializable bool
}

// Client performs register ops through etcd's clientv3 API, against etcd or
// kvnode. It implements harness.Client. Like the clientv3 client under it,
// it is safe for concurrent use, though the runner gives each process its
// own.
type Client struct {
	cli  *clientv3.Client
	node string
	opts ClientOptions
}

// NewClient returns a client that performs ops through cli and records node
// (the node it is pinned to, or a list of them) on every completion. On
// success it takes ownership of cli: Close closes it. It fails only on a
// nil cli or a negative timeout, and then leaves cli to the caller.
func NewClient(cli *clientv3.Client, node string, opts ClientOptions) (*Client, error) {
	if cli == nil {
		return nil, errors.New("register client: nil clientv3 client")
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("register client: timeout must not be negative, got %v", opts.Timeout)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Client{cli: cli, node: node, opts: opts}, nil
}

// Invoke performs a read, write or cas and returns its completion:
//
//   - read: Get of the key (linearizable unless Serializable); ok with the
//     int read, or null if the key is absent.
//   - write: Put of the value; ok.
//   - cas [old, new]: a transaction that puts new if the stored value is
//     old; ok if it did, fail if the compare failed (the put certainly did
//     not happen, and an absent key never compares equal).
//
// An error ends the op as Outcome says: a read fails, a write or cas is
// info unless the error proves it never took effect. The completion carries
// the node and the error.
func (c *Client) Invoke(ctx context.Context, op harness.Op) harness.Op {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	done, err := c.invoke(ctx, op)
	if err != nil {
		done = op.Completion(Outcome(op.F != Read, err))
		done.Error = err.Error()
	}
	done.Node = c.node
	return done
}

// invoke returns an ok or fail completion, or the error of a store call
// for Invoke to classify. An op it cannot even send fails here.
func (c *Client) invoke(ctx context.Context, op harness.Op) (harness.Op, error) {
	key := KeyPrefix + op.Key
	switch op.F {
	case Read:
		var opts []clientv3.OpOption
		if c.opts.Serializable {
			opts = append(opts, clientv3.WithSerializable())
		}
		resp, err := c.cli.Get(ctx, key, opts...)
		if err != nil {
			return op, fmt.Errorf("get %s: %w", key, err)
		}
		done := op.Completion(harness.OK)
		done.Revision = resp.Header.Revision
		if len(resp.Kvs) == 0 {
			done.Value = readValue(0, false)
			return done, nil
		}
		v, err := strconv.Atoi(string(resp.Kvs[0].Value))
		if err != nil {
			return failed(op, fmt.Sprintf("get %s: stored value %q is not an int", key, resp.Kvs[0].Value)), nil
		}
		done.Value = readValue(v, true)
		done.ModRevision = resp.Kvs[0].ModRevision
		return done, nil
	case Write:
		var v int
		if err := op.DecodeValue(&v); err != nil {
			return failed(op, err.Error()), nil
		}
		resp, err := c.cli.Put(ctx, key, strconv.Itoa(v))
		if err != nil {
			return op, fmt.Errorf("put %s: %w", key, err)
		}
		done := op.Completion(harness.OK)
		done.Revision, done.ModRevision = resp.Header.Revision, resp.Header.Revision
		return done, nil
	case CAS:
		var sw Swap
		if err := op.DecodeValue(&sw); err != nil {
			return failed(op, err.Error()), nil
		}
		resp, err := c.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.Value(key), "=", strconv.Itoa(sw[0]))).
			Then(clientv3.OpPut(key, strconv.Itoa(sw[1]))).
			Commit()
		if err != nil {
			return op, fmt.Errorf("cas %s: %w", key, err)
		}
		if !resp.Succeeded {
			return failed(op, "cas: stored value is not "+strconv.Itoa(sw[0])), nil
		}
		done := op.Completion(harness.OK)
		done.Revision, done.ModRevision = resp.Header.Revision, resp.Header.Revision
		return done, nil
	}
	return failed(op, fmt.Sprintf("unknown register f %q (want read, write or cas)", op.F)), nil
}

// failed completes op as a certain failure.
func failed(op harness.Op, reason string) harness.Op {
	done := op.Completion(harness.Fail)
	done.Error = reason
	return done
}

// Close closes the clientv3 client.
func (c *Client) Close() error {
	if err := c.cli.Close(); err != nil {
		return fmt.Errorf("close register client on %s: %w", c.node, err)
	}
	return nil
}
