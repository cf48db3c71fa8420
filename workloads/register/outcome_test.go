package register

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/faultline/faultline/harness"
)

// asClient converts a gRPC error the way clientv3's KV methods do before
// returning it: etcd server errors become rpctypes.EtcdError, and a
// DeadlineExceeded or Canceled status becomes the context's own error once
// the context is done.
func asClient(ctx context.Context, err error) error { return clientv3.ContextError(ctx, err) }

func expiredContext() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	cancel()
	return ctx
}

// TestOutcome pins the classification of every error a clientv3 op can end
// with. For a write, fail means "certainly did not take effect": a wrong
// fail hides a write that happened and produces a false alarm, so every
// fail row below must be an error raised before the request was sent or
// by a server refusing it outright.
func TestOutcome(t *testing.T) {
	dialRefused := `connection error: desc = "transport: Error while dialing: dial tcp 10.1.0.2:2379: connect: connection refused"`
	for _, tc := range []struct {
		name  string
		err   error
		write harness.Type // for write and cas
	}{
		{"no error", nil, harness.OK},

		// Time ran out: the request may have been applied.
		{"context deadline", context.DeadlineExceeded, harness.Info},
		{"context canceled", context.Canceled, harness.Info},
		{"wrapped deadline", fmt.Errorf("put /faultline/register/r1: %w", context.DeadlineExceeded), harness.Info},
		{"grpc deadline status", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), harness.Info},
		{"grpc deadline via clientv3", asClient(expiredContext(), status.Error(codes.DeadlineExceeded, "context deadline exceeded")), harness.Info},
		{"deadline while dial refused", status.Error(codes.DeadlineExceeded, "context deadline exceeded: "+dialRefused), harness.Info},
		{"etcd deadline exceeded", rpctypes.ErrGRPCDeadlineExceeded, harness.Info},
		{"etcd request canceled", rpctypes.ErrGRPCCanceled, harness.Info},
		{"client connection closing", status.Error(codes.Canceled, "grpc: the client connection is closing"), harness.Info},
		{"deadline joined with a refusal", errors.Join(context.DeadlineExceeded, rpctypes.ErrTooManyRequests), harness.Info},

		// etcd's Unavailable errors: possibly proposed already.
		{"no leader (status)", rpctypes.ErrGRPCNoLeader, harness.Info},
		{"no leader (clientv3)", asClient(context.Background(), rpctypes.ErrGRPCNoLeader), harness.Info},
		{"leader changed", rpctypes.ErrLeaderChanged, harness.Info},
		{"request timed out", rpctypes.ErrTimeout, harness.Info},
		{"timed out, leader fail", rpctypes.ErrTimeoutDueToLeaderFail, harness.Info},
		{"timed out, connection lost", rpctypes.ErrTimeoutDueToConnectionLost, harness.Info},
		{"timed out waiting applied index", rpctypes.ErrTimeoutWaitAppliedIndex, harness.Info},
		{"server stopped", rpctypes.ErrStopped, harness.Info},
		{"unhealthy", rpctypes.ErrUnhealthy, harness.Info},
		{"corrupt", rpctypes.ErrCorrupt, harness.Info},

		// The connection broke with the request possibly on the wire.
		{"eof from server", status.Error(codes.Unavailable, "error reading from server: EOF"), harness.Info},
		{"transport closing", status.Error(codes.Unavailable, "transport is closing"), harness.Info},
		{"connection reset", status.Error(codes.Unavailable, "read tcp 10.1.0.1:5000->10.1.0.2:2379: read: connection reset by peer"), harness.Info},
		{"internal", status.Error(codes.Internal, "grpc: error unmarshalling response"), harness.Info},
		{"unknown status", status.Error(codes.Unknown, "something"), harness.Info},
		{"aborted", status.Error(codes.Aborted, "aborted"), harness.Info},
		{"plain error", errors.New("something odd"), harness.Info},
		{"io eof", io.EOF, harness.Info},
		{"connection reset syscall", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, harness.Info},

		// Never sent: no connection to send it on.
		{"no address available", status.Error(codes.Unavailable, "there is no address available"), harness.Fail},
		{"no connection available", status.Error(codes.Unavailable, "there is no connection available"), harness.Fail},
		{"dial refused", status.Error(codes.Unavailable, dialRefused), harness.Fail},
		{"dial refused via clientv3", asClient(context.Background(), status.Error(codes.Unavailable, dialRefused)), harness.Fail},
		{"wrapped dial refused", fmt.Errorf("cas /faultline/register/r3: %w", status.Error(codes.Unavailable, dialRefused)), harness.Fail},
		{"raw connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, harness.Fail},

		// Refused by the server without applying.
		{"too many requests", rpctypes.ErrTooManyRequests, harness.Fail},
		{"too many requests (status)", rpctypes.ErrGRPCRequestTooManyRequests, harness.Fail},
		{"wrapped too many requests", fmt.Errorf("put: %w", rpctypes.ErrTooManyRequests), harness.Fail},
		{"no space", rpctypes.ErrNoSpace, harness.Fail},
		{"request too large", rpctypes.ErrRequestTooLarge, harness.Fail},
		{"empty key", rpctypes.ErrEmptyKey, harness.Fail},
		{"too many ops", rpctypes.ErrTooManyOps, harness.Fail},
		{"duplicate key", rpctypes.ErrDuplicateKey, harness.Fail},
		{"permission denied", rpctypes.ErrPermissionDenied, harness.Fail},
		{"invalid auth token", rpctypes.ErrInvalidAuthToken, harness.Fail},
		{"not capable", rpctypes.ErrNotCapable, harness.Fail},
		{"learner", rpctypes.ErrGRPCNotSupportedForLearner, harness.Fail},
		{"compacted", rpctypes.ErrCompacted, harness.Fail},
		{"unimplemented", status.Error(codes.Unimplemented, "unknown method Txn for service etcdserverpb.KV"), harness.Fail},
		{"message too large to send", status.Error(codes.ResourceExhausted, "grpc: trying to send message larger than max (3000000 vs. 2097152)"), harness.Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.write, Outcome(true, tc.err), "write")
			read := harness.Fail
			if tc.err == nil {
				read = harness.OK
			}
			require.Equal(t, read, Outcome(false, tc.err), "read")
		})
	}
}
