package kvstore

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// MaxTxnOps is the largest number of operations one Txn branch may hold,
// etcd's default for --max-txn-ops.
const MaxTxnOps = 128

// ErrEmptyRequestOp rejects a Txn operation that holds no request.
var ErrEmptyRequestOp = status.Error(codes.InvalidArgument, "kvnode: txn operation holds no request")

// The Validate functions reject malformed requests with the errors etcd
// returns for them. They depend only on the request, so the server can call
// them before proposing and the store calls them again when applying.

// ValidateRange rejects a range without a key.
func ValidateRange(req *pb.RangeRequest) error {
	if len(req.GetKey()) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	return nil
}

// ValidatePut rejects a put without a key, or one that both sets and ignores
// its value or lease.
func ValidatePut(req *pb.PutRequest) error {
	if len(req.GetKey()) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	if req.GetIgnoreValue() && len(req.GetValue()) != 0 {
		return rpctypes.ErrGRPCValueProvided
	}
	if req.GetIgnoreLease() && req.GetLease() != 0 {
		return rpctypes.ErrGRPCLeaseProvided
	}
	return nil
}

// ValidateDeleteRange rejects a delete without a key.
func ValidateDeleteRange(req *pb.DeleteRangeRequest) error {
	if len(req.GetKey()) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	return nil
}

// ValidateTxn checks every operation of both branches, recursively, and
// rejects a branch that writes one key twice: two puts of one key, or a put of
// a key that a delete in the same branch covers (ErrGRPCDuplicateKey). The
// two branches of a nested Txn exclude each other, so they may share keys.
func ValidateTxn(req *pb.TxnRequest) error {
	if err := validateOps(req.GetSuccess()); err != nil {
		return err
	}
	if err := validateOps(req.GetFailure()); err != nil {
		return err
	}
	if _, _, err := branchWrites(req.GetSuccess()); err != nil {
		return err
	}
	_, _, err := branchWrites(req.GetFailure())
	return err
}

func validateOps(ops []*pb.RequestOp) error {
	if len(ops) > MaxTxnOps {
		return rpctypes.ErrGRPCTooManyOps
	}
	for _, op := range ops {
		var err error
		switch {
		case op.GetRequestRange() != nil:
			err = ValidateRange(op.GetRequestRange())
		case op.GetRequestPut() != nil:
			err = ValidatePut(op.GetRequestPut())
		case op.GetRequestDeleteRange() != nil:
			err = ValidateDeleteRange(op.GetRequestDeleteRange())
		case op.GetRequestTxn() != nil:
			err = ValidateTxn(op.GetRequestTxn())
		default:
			err = ErrEmptyRequestOp
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// KeyInterval is the set of keys a request names: [start, end), or
// [start, ∞) when unbounded.
type KeyInterval struct {
	start, end string
	unbounded  bool
}

// Contains reports whether key is in the interval.
func (iv KeyInterval) Contains(key string) bool {
	return key >= iv.start && (iv.unbounded || key < iv.end)
}

// NewKeyInterval reads key and rangeEnd the way etcd reads a request: an
// empty rangeEnd names the single key, "\x00" every key >= key, anything
// else the half-open interval [key, rangeEnd).
func NewKeyInterval(key, rangeEnd []byte) KeyInterval {
	switch {
	case len(rangeEnd) == 0:
		return KeyInterval{start: string(key), end: string(key) + "\x00"}
	case len(rangeEnd) == 1 && rangeEnd[0] == 0:
		return KeyInterval{start: string(key), unbounded: true}
	default:
		return KeyInterval{start: string(key), end: string(rangeEnd)}
	}
}

func coveredBy(dels []KeyInterval, key string) bool {
	for _, iv := range dels {
		if iv.Contains(key) {
			return true
		}
	}
	return false
}

// branchWrites returns the keys a branch puts and the intervals it deletes,
// including those of nested Txns, or ErrGRPCDuplicateKey.
func branchWrites(ops []*pb.RequestOp) (map[string]bool, []KeyInterval, error) {
	var dels []KeyInterval
	for _, op := range ops {
		if d := op.GetRequestDeleteRange(); d != nil {
			dels = append(dels, NewKeyInterval(d.GetKey(), d.GetRangeEnd()))
		}
	}
	puts := make(map[string]bool)
	for _, op := range ops {
		nested := op.GetRequestTxn()
		if nested == nil {
			continue
		}
		thenPuts, thenDels, err := branchWrites(nested.GetSuccess())
		if err != nil {
			return nil, nil, err
		}
		elsePuts, elseDels, err := branchWrites(nested.GetFailure())
		if err != nil {
			return nil, nil, err
		}
		for k := range thenPuts {
			if puts[k] || coveredBy(dels, k) {
				return nil, nil, rpctypes.ErrGRPCDuplicateKey
			}
			puts[k] = true
		}
		for k := range elsePuts {
			if (puts[k] && !thenPuts[k]) || coveredBy(dels, k) {
				return nil, nil, rpctypes.ErrGRPCDuplicateKey
			}
			puts[k] = true
		}
		dels = append(append(dels, thenDels...), elseDels...)
	}
	for _, op := range ops {
		p := op.GetRequestPut()
		if p == nil {
			continue
		}
		k := string(p.GetKey())
		if puts[k] || coveredBy(dels, k) {
			return nil, nil, rpctypes.ErrGRPCDuplicateKey
		}
		puts[k] = true
	}
	return puts, dels, nil
}
