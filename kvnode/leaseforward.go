package kvnode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// Renewals and TTL lookups do not go through raft: a follower forwards them
// to the leader over the peer network, as etcd does (its leasehttp), so that
// a client pinned to a follower keeps its lease alive. The bodies are the
// protobuf requests and responses of the Lease API.
const (
	leaseRenewPath = "/kvnode/lease/renew"
	leaseTTLPath   = "/kvnode/lease/ttl"
)

// maxForwardBody bounds a forwarded request or response body.
const maxForwardBody = 4 << 20

// Status codes of the forwarding protocol besides 200.
const (
	// statusLeaseNotFound: no such lease.
	statusLeaseNotFound = http.StatusNotFound
	// statusNotPrimary: this node cannot serve it now; ask again, maybe
	// another node.
	statusNotPrimary = http.StatusServiceUnavailable
)

// serveLeaseRenew renews a lease for a follower, if this node leads.
func (s *Server) serveLeaseRenew(w http.ResponseWriter, r *http.Request) {
	var req pb.LeaseKeepAliveRequest
	if !s.readForwarded(w, r, &req) {
		return
	}
	ttl, err := s.renewAsLeader(r.Context(), req.GetID())
	s.writeForwarded(w, &pb.LeaseKeepAliveResponse{ID: req.GetID(), TTL: ttl}, err)
}

// serveLeaseTTL answers a TTL lookup for a follower, if this node leads.
func (s *Server) serveLeaseTTL(w http.ResponseWriter, r *http.Request) {
	var req pb.LeaseTimeToLiveRequest
	if !s.readForwarded(w, r, &req) {
		return
	}
	resp, err := s.timeToLiveAsLeader(r.Context(), &req)
	s.writeForwarded(w, resp, err)
}

func (s *Server) readForwarded(w http.ResponseWriter, r *http.Request, req proto.Message) bool {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return false
	}
	if s.isolated.Load() {
		http.Error(w, "isolated", statusNotPrimary)
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxForwardBody))
	if err == nil {
		err = proto.Unmarshal(body, req)
	}
	if err != nil {
		http.Error(w, fmt.Sprintf("decode request: %v", err), http.StatusBadRequest)
		return false
	}
	if !s.isLeader() {
		http.Error(w, "not the leader", statusNotPrimary)
		return false
	}
	return true
}

func (s *Server) writeForwarded(w http.ResponseWriter, resp proto.Message, err error) {
	switch {
	case errors.Is(err, errLeaseNotFound):
		http.Error(w, err.Error(), statusLeaseNotFound)
		return
	case err != nil:
		http.Error(w, err.Error(), statusNotPrimary)
		return
	}
	data, err := proto.Marshal(resp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/protobuf")
	w.Write(data)
}

// forwardRenew renews lease id on the leader lead.
func (s *Server) forwardRenew(ctx context.Context, lead uint64, id int64) (int64, error) {
	var resp pb.LeaseKeepAliveResponse
	if err := s.forward(ctx, lead, leaseRenewPath, &pb.LeaseKeepAliveRequest{ID: id}, &resp); err != nil {
		return 0, err
	}
	return resp.GetTTL(), nil
}

// forwardTimeToLive asks the leader lead for a lease's TTL.
func (s *Server) forwardTimeToLive(ctx context.Context, lead uint64, req *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	var resp pb.LeaseTimeToLiveResponse
	if err := s.forward(ctx, lead, leaseTTLPath, req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// forward posts req to path on the leader's peer URLs, trying each in turn.
// It returns errLeaseNotFound when the leader says so, and errNotPrimary
// (ask again later) when no URL gave an answer. One attempt is bounded by
// an election timeout and a second, as a peer dial is: a leader that cannot
// be reached is likely to be replaced, and the caller asks again with the
// leader it then knows.
func (s *Server) forward(ctx context.Context, lead uint64, path string, req, resp proto.Message) error {
	if s.isolated.Load() {
		return errNotPrimary
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ElectionTimeout+time.Second)
	defer cancel()
	s.stateMu.RLock()
	leader, ok := s.state.members.Member(lead)
	s.stateMu.RUnlock()
	if !ok {
		return errNotPrimary
	}
	body, err := proto.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode forwarded request: %w", err)
	}
	for _, u := range leader.PeerURLs {
		err := s.post(ctx, u+path, body, resp)
		if err == nil || errors.Is(err, errLeaseNotFound) {
			return err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return errNotPrimary
}

func (s *Server) post(ctx context.Context, url string, body []byte, resp proto.Message) error {
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("forward to %s: %w", url, err)
	}
	httpReq.Header.Set("Content-Type", "application/protobuf")
	httpResp, err := s.forwardClient.Do(httpReq)
	if err != nil {
		return fmt.Errorf("forward to %s: %w", url, err)
	}
	defer httpResp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(httpResp.Body, maxForwardBody))
	if err != nil {
		return fmt.Errorf("read answer of %s: %w", url, err)
	}
	switch httpResp.StatusCode {
	case http.StatusOK:
		if err := proto.Unmarshal(data, resp); err != nil {
			return fmt.Errorf("decode answer of %s: %w", url, err)
		}
		return nil
	case statusLeaseNotFound:
		return errLeaseNotFound
	default:
		return fmt.Errorf("forward to %s: %s: %s", url, httpResp.Status, bytes.TrimSpace(data))
	}
}
