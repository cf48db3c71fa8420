package targets

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// ClientOpts tunes the clients OpenClient makes. The zero value is the
// harness's default.
type ClientOpts struct {
	// DialTimeout bounds each connection attempt; default 2 s.
	DialTimeout time.Duration
	// KeepAliveTime is how long a connection may stay silent before the
	// client pings the server; default 10 s. etcd rejects pings more
	// often than every 5 s (--grpc-keepalive-min-time) with GOAWAY, so
	// values below that are raised to 5 s.
	KeepAliveTime time.Duration
	// KeepAliveTimeout is how long the client waits for a ping's answer
	// before it declares the connection dead; default 3 s.
	KeepAliveTimeout time.Duration
	// ReconnectMaxDelay caps gRPC's reconnect backoff; default 1 s. gRPC's
	// own cap is 120 s, which would hide a healed node from a pinned
	// client for minutes and distort the availability figures.
	ReconnectMaxDelay time.Duration
	// Logger receives the client's logs; nil discards them.
	Logger *zap.Logger
}

// Defaults for ClientOpts.
const (
	DefaultDialTimeout       = 2 * time.Second
	DefaultKeepAliveTime     = 10 * time.Second
	DefaultKeepAliveTimeout  = 3 * time.Second
	DefaultReconnectMaxDelay = time.Second
	minKeepAliveTime         = 5 * time.Second
)

func (o ClientOpts) withDefaults() ClientOpts {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.KeepAliveTime <= 0 {
		o.KeepAliveTime = DefaultKeepAliveTime
	}
	if o.KeepAliveTime < minKeepAliveTime {
		o.KeepAliveTime = minKeepAliveTime
	}
	if o.KeepAliveTimeout <= 0 {
		o.KeepAliveTimeout = DefaultKeepAliveTimeout
	}
	if o.ReconnectMaxDelay <= 0 {
		o.ReconnectMaxDelay = DefaultReconnectMaxDelay
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o
}

// config is the clientv3 configuration OpenClient uses.
func (o ClientOpts) config(endpoints []string) clientv3.Config {
	o = o.withDefaults()
	return clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          o.DialTimeout,
		DialKeepAliveTime:    o.KeepAliveTime,
		DialKeepAliveTimeout: o.KeepAliveTimeout,
		// AutoSyncInterval stays zero: a client pinned to one node must
		// not learn the other members and wander off to them.
		AutoSyncInterval: 0,
		RejectOldCluster: false,
		Logger:           o.Logger,
		DialOptions: []grpc.DialOption{
			grpc.WithConnectParams(grpc.ConnectParams{
				Backoff: backoff.Config{
					BaseDelay:  100 * time.Millisecond,
					Multiplier: 1.6,
					Jitter:     0.2,
					MaxDelay:   o.ReconnectMaxDelay,
				},
				MinConnectTimeout: o.DialTimeout,
			}),
		},
	}
}

// OpenClient opens an etcd v3 client against endpoints: one endpoint for a
// client pinned to its node (Jepsen's default), every endpoint for a client
// that fails over. It does not wait for a connection, so a client of a
// node that is down or cut off opens fine and its ops fail or time out,
// which is what the history must record.
//
// The client never syncs its endpoint list with the cluster's members, so a
// pinned client stays pinned.
func OpenClient(ctx context.Context, endpoints []string, opts ClientOpts) (*clientv3.Client, error) {
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("open client: no endpoints")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open client %v: %w", endpoints, err)
	}
	c, err := clientv3.New(opts.config(endpoints))
	if err != nil {
		return nil, fmt.Errorf("open client %v: %w", endpoints, err)
	}
	return c, nil
}
