package kvstore

import (
	"testing"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

func put(t *testing.T, s *Store, key, value string) *pb.PutResponse {
	t.Helper()
	resp, err := s.Put(&pb.PutRequest{Key: []byte(key), Value: []byte(value)})
	require.NoError(t, err)
	return resp
}

func get(t *testing.T, s *Store, key string) *pb.RangeResponse {
	t.Helper()
	resp, err := s.Range(&pb.RangeRequest{Key: []byte(key)})
	require.NoError(t, err)
	return resp
}

func opPut(key, value string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(key), Value: []byte(value)}}}
}

func opGet(key string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte(key)}}}
}

func opDelete(key, rangeEnd string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte(key), RangeEnd: []byte(rangeEnd)}}}
}

func opTxn(txn *pb.TxnRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestTxn{RequestTxn: txn}}
}

func keysOf(resp *pb.RangeResponse) []string {
	var keys []string
	for _, kv := range resp.GetKvs() {
		keys = append(keys, string(kv.GetKey()))
	}
	return keys
}
