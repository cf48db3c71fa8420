package set

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

// Modes of storing the set, the values of --set-mode.
const (
	// ModeKeys stores each element as its own key under the prefix: an
	// add is one Put, a read one prefix Range.
	ModeKeys = "keys"
	// ModeAppend stores the whole set as one comma-separated value at
	// one key: an add reads it and appends with a Txn guarded by the
	// key's mod revision, retrying on conflict until the op times out.
	ModeAppend = "append"
)

// Modes lists the --set-mode values.
var Modes = []string{ModeKeys, ModeAppend}

// DefaultTimeout bounds each op when ClientOptions.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// ClientOptions configure a Client.
type ClientOptions struct {
	// Prefix is where the set lives: each element at Prefix+"e<n>" in
	// keys mode, the list at Prefix+"list" in append mode.
	Prefix string
	// Mode is ModeKeys or ModeAppend.
	Mode string
	// Timeout bounds each op; zero means DefaultTimeout.
	Timeout time.Duration
	// Serializable makes final reads serializable (local) reads.
	Serializable bool
}

func (o ClientOptions) validate() (ClientOptions, error) {
	switch {
	case o.Prefix == "":
		return o, errors.New("set client: empty key prefix")
	case o.Mode != ModeKeys && o.Mode != ModeAppend:
		return o, fmt.Errorf("set client: mode must be %s, got %q", strings.Join(Modes, " or "), o.Mode)
	case o.Timeout < 0:
		return o, fmt.Errorf("set client: timeout must not be negative, got %v", o.Timeout)
	case o.Timeout == 0:
		o.Timeout = DefaultTimeout
	}
	return o, nil
}

// Client performs set ops through etcd's clientv3 API. It implements
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
		return nil, errors.New("set client: nil clientv3 client")
	}
	opts, err := opts.validate()
	if err != nil {
		return nil, err
	}
	return &Client{cli: cli, node: node, opts: opts}, nil
}

// Invoke performs an add or a final read. An add that errors is info
// unless the error proves it never took effect (register.Outcome); a read
// that errors fails.
func (c *Client) Invoke(ctx context.Context, op harness.Op) harness.Op {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var done harness.Op
	var err error
	switch op.F {
	case Add:
		done, err = c.add(ctx, op)
	case FinalRead:
		done, err = c.read(ctx, op)
	default:
		done = failed(op, fmt.Sprintf("unknown set f %q (want %s or %s)", op.F, Add, FinalRead))
	}
	if err != nil {
		done = op.Completion(register.Outcome(op.F == Add, err))
		done.Error = err.Error()
	}
	done.Node = c.node
	return done
}

func (c *Client) add(ctx context.Context, op harness.Op) (harness.Op, error) {
	var e int
	if err := op.DecodeValue(&e); err != nil {
		return failed(op, err.Error()), nil
	}
	if c.opts.Mode == ModeKeys {
		key := c.opts.Prefix + "e" + strconv.Itoa(e)
		resp, err := c.cli.Put(ctx, key, strconv.Itoa(e))
		if err != nil {
			return op, fmt.Errorf("put %s: %w", key, err)
		}
		return acknowledged(op, resp.Header.Revision), nil
	}
	return c.appendElement(ctx, op, e)
}

// appendElement reads the list and appends e with a Txn guarded by the
// list's mod revision, until the Txn succeeds or time runs out. Every
// failed compare certainly wrote nothing, so running out of time after
// conflicts alone is a fail; an error of the Txn itself ends the op at
// once, as info unless the error proves it was never applied.
func (c *Client) appendElement(ctx context.Context, op harness.Op, e int) (harness.Op, error) {
	key := c.opts.Prefix + "list"
	conflicts := 0
	for {
		resp, err := c.cli.Get(ctx, key)
		if err != nil {
			// Nothing has been written by this op: a certain failure.
			return failed(op, fmt.Sprintf("get %s after %d conflicts: %v", key, conflicts, err)), nil
		}
		var old string
		var modRev int64
		if len(resp.Kvs) > 0 {
			old, modRev = string(resp.Kvs[0].Value), resp.Kvs[0].ModRevision
		}
		next := strconv.Itoa(e)
		if old != "" {
			next = old + "," + next
		}
		txn, err := c.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", modRev)).
			Then(clientv3.OpPut(key, next)).
			Commit()
		if err != nil {
			return op, fmt.Errorf("append to %s: %w", key, err)
		}
		if txn.Succeeded {
			return acknowledged(op, txn.Header.Revision), nil
		}
		conflicts++
	}
}

func (c *Client) read(ctx context.Context, op harness.Op) (harness.Op, error) {
	var opts []clientv3.OpOption
	if c.opts.Serializable {
		opts = append(opts, clientv3.WithSerializable())
	}
	elements := []int{}
	if c.opts.Mode == ModeKeys {
		resp, err := c.cli.Get(ctx, c.opts.Prefix, append(opts, clientv3.WithPrefix(), clientv3.WithKeysOnly())...)
		if err != nil {
			return op, fmt.Errorf("range %s: %w", c.opts.Prefix, err)
		}
		for _, kv := range resp.Kvs {
			e, err := strconv.Atoi(strings.TrimPrefix(string(kv.Key), c.opts.Prefix+"e"))
			if err != nil {
				return failed(op, fmt.Sprintf("key %q under the set prefix is no element", kv.Key)), nil
			}
			elements = append(elements, e)
		}
	} else {
		key := c.opts.Prefix + "list"
		resp, err := c.cli.Get(ctx, key, opts...)
		if err != nil {
			return op, fmt.Errorf("get %s: %w", key, err)
		}
		if len(resp.Kvs) > 0 {
			list, err := parseList(string(resp.Kvs[0].Value))
			if err != nil {
				return failed(op, fmt.Sprintf("get %s: %v", key, err)), nil
			}
			elements = list
		}
	}
	done := op.Completion(harness.OK)
	done.Value = harness.MustValue(elements)
	return done, nil
}

// acknowledged completes an add ok at revision, the header's of the
// write, which the replicas checker holds every member to reach.
func acknowledged(op harness.Op, revision int64) harness.Op {
	done := op.Completion(harness.OK)
	done.Revision = revision
	return done
}

// parseList reads a comma-separated list of elements.
func parseList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		e, err := strconv.Atoi(part)
		if err != nil {
			return nil, fmt.Errorf("stored list holds %q, not an element", part)
		}
		out = append(out, e)
	}
	return out, nil
}

func failed(op harness.Op, reason string) harness.Op {
	done := op.Completion(harness.Fail)
	done.Error = reason
	return done
}

// Close closes the clientv3 client.
func (c *Client) Close() error {
	if err := c.cli.Close(); err != nil {
		return fmt.Errorf("close set client on %s: %w", c.node, err)
	}
	return nil
}
