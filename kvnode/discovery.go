package kvnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
)

// discoverCluster asks running members, through their peer URLs, for the
// cluster ID and membership, trying each URL in turn until one answers or
// ctx ends.
func discoverCluster(ctx context.Context, lg *zap.Logger, peerURLs []string) (*clusterView, error) {
	if len(peerURLs) == 0 {
		return nil, errors.New("no other member to ask")
	}
	client := &http.Client{Timeout: 2 * time.Second}
	var lastErr error
	for {
		for _, u := range peerURLs {
			view, err := fetchClusterView(ctx, client, u)
			if err == nil {
				return view, nil
			}
			lastErr = err
			lg.Info("membership not available yet", zap.String("peer", u), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no member answered: %w", lastErr)
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
