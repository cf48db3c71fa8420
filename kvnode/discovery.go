package kvnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/faultline/faultline/kvnode/membership"
)

// discoverSelf asks running members, through their peer URLs, for the
// cluster ID and membership, until one of them lists a member whose peer URLs
// are selfPeerURLs, or ctx ends. A member that answers without it may simply
// not have applied the MemberAdd yet, so the search goes on.
func discoverSelf(ctx context.Context, lg *zap.Logger, peerURLs, selfPeerURLs []string) (*clusterView, membership.Member, error) {
	if len(peerURLs) == 0 {
		return nil, membership.Member{}, errors.New("no other member to ask")
	}
	client := &http.Client{Timeout: 2 * time.Second}
	var lastErr error
	for {
		for _, u := range peerURLs {
			view, err := fetchClusterView(ctx, client, u)
			if err == nil {
				i := slices.IndexFunc(view.Members, func(m membership.Member) bool { return m.HasPeerURLs(selfPeerURLs) })
				if i >= 0 {
					return view, view.Members[i], nil
				}
				err = fmt.Errorf("%s knows no member with the peer URLs %v; add it with MemberAdd first", u, selfPeerURLs)
			}
			lastErr = err
			lg.Info("this member is not known to the cluster yet", zap.String("peer", u), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return nil, membership.Member{}, fmt.Errorf("gave up after %v: %w", joinTimeout, lastErr)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func fetchClusterView(ctx context.Context, client *http.Client, peerURL string) (*clusterView, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(peerURL, "/")+membersPath, nil)
	if err != nil {
		return nil, fmt.Errorf("build request to %s: %w", peerURL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask %s: %w", peerURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ask %s: status %s", peerURL, resp.Status)
	}
	var view clusterView
	if err := json.NewDecoder(resp.Body).Decode(&view); err != nil {
		return nil, fmt.Errorf("decode membership from %s: %w", peerURL, err)
	}
	if view.ClusterID == 0 || len(view.Members) == 0 {
		return nil, fmt.Errorf("%s has no membership yet", peerURL)
	}
	return &view, nil
}
