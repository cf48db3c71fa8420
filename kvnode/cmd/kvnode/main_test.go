package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBadFlagsExit254(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantText string
	}{
		{"unknown bug mode", []string{"--bug", "split-brain"}, "--bug"},
		{"unknown flag", []string{"--no-such-flag"}, "no-such-flag"},
		{"bad number", []string{"--heartbeat-interval", "fast"}, "heartbeat-interval"},
		{"bad cluster state", []string{"--initial-cluster-state", "maybe"}, "--initial-cluster-state"},
		{"election too short", []string{"--heartbeat-interval", "100", "--election-timeout", "300"}, "--election-timeout"},
		{"name not in cluster", []string{"--name", "n9", "--initial-cluster", "n1=http://127.0.0.1:2380"}, "--initial-cluster"},
		{"tls url", []string{"--listen-client-urls", "https://0.0.0.0:2379"}, "--listen-client-urls"},
		{"stray argument", []string{"extra"}, "extra"},
		{"periodic compaction", []string{"--auto-compaction-mode", "periodic"}, "--auto-compaction-mode"},
		{"bad progress interval", []string{"--watch-progress-notify-interval", "often"}, "watch-progress-notify-interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			require.Equal(t, exitBadInput, run(tc.args, &stderr))
			require.Contains(t, stderr.String(), tc.wantText)
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	var stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"--help"}, &stderr))
	require.Contains(t, stderr.String(), "-initial-cluster-token")
}
