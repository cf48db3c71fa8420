package register

import (
	"context"
	"errors"
	"strings"
	"syscall"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/faultline/faultline/harness"
)

// Outcome classifies how a client op ended, from the error the store
// returned: ok when err is nil; otherwise fail if the op certainly did not
// take effect, info if it may have.
//
// A read that errors is a fail whatever the error: it changed nothing, so
// "did not happen" is always a correct account of it.
//
// A write (mutates) that errors is info unless the error proves it never
// took effect. The rule is conservative because a wrong fail is a false
// alarm (the checker drops the op, then calls its effect impossible),
// while a wrong info only costs checking time. Proof is one of:
//
//   - the store's server rejected the request outright: a gRPC code of
//     InvalidArgument, FailedPrecondition, OutOfRange, NotFound,
//     AlreadyExists, PermissionDenied, Unauthenticated, ResourceExhausted
//     (etcd's "too many requests" and "database space exceeded", refused
//     before or instead of applying) or Unimplemented;
//   - the request never left the client: the connection was refused, or
//     gRPC found no connection to send it on (Unavailable with "there is no
//     address available", "there is no connection available", or "Error
//     while dialing", the same test clientv3 uses to retry a write safely).
//
// Everything else is info, and in particular every deadline or
// cancellation, whether the context's own or a gRPC DeadlineExceeded or
// Canceled status: the request may have been sent and applied before time
// ran out. etcd's own Unavailable errors ("no leader", "leader changed",
// "request timed out", "server stopped") are info too: some are raised
// after the entry was proposed, and the message alone does not tell which.
func Outcome(mutates bool, err error) harness.Type {
	switch {
	case err == nil:
		return harness.OK
	case !mutates:
		return harness.Fail
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return harness.Info
	case neverApplied(err):
		return harness.Fail
	}
	return harness.Info
}

// rejectedCodes are the gRPC codes with which a server refuses a request
// without applying it.
var rejectedCodes = []codes.Code{
	codes.InvalidArgument,
	codes.FailedPrecondition,
	codes.OutOfRange,
	codes.NotFound,
	codes.AlreadyExists,
	codes.PermissionDenied,
	codes.Unauthenticated,
	codes.ResourceExhausted,
	codes.Unimplemented,
}

// unsentMessages are the Unavailable messages gRPC gives when it had no
// connection to send a request on.
var unsentMessages = []string{
	"there is no address available",
	"there is no connection available",
	"Error while dialing",
	"connect: connection refused",
}

// neverApplied reports whether err proves that a write did not take effect.
func neverApplied(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	code, message, ok := grpcCode(err)
	if !ok {
		return false
	}
	for _, c := range rejectedCodes {
		if code == c {
			return true
		}
	}
	if code != codes.Unavailable {
		return false
	}
	for _, m := range unsentMessages {
		if strings.Contains(message, m) {
			return true
		}
	}
	return false
}

// grpcCode finds the gRPC code of err: from an etcd server error, as
// clientv3 converts them, or from a gRPC status anywhere in its chain.
func grpcCode(err error) (codes.Code, string, bool) {
	var etcdErr rpctypes.EtcdError
	if errors.As(err, &etcdErr) {
		return etcdErr.Code(), etcdErr.Error(), true
	}
	if s, ok := status.FromError(err); ok {
		return s.Code(), s.Message(), true
	}
	return codes.Unknown, "", false
}
