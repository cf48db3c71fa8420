package kvnode

import (
	"fmt"
	"strings"

	"go.uber.org/zap"
)

// BugMode selects a deliberate consistency bug, so that the harness can prove
// its checkers catch one. The zero value is a correct node.
type BugMode string

// The bug modes. Each breaks exactly one promise of a CP store.
const (
	// BugNone is the correct node.
	BugNone BugMode = ""
	// BugStaleRead serves linearizable reads from local state, skipping the
	// ReadIndex round: a node cut off from the leader answers with old data.
	BugStaleRead BugMode = "stale-read"
	// BugEarlyAck acknowledges a write once it is proposed, before it commits,
	// with a response computed on a copy of the local state: writes that are
	// later lost look successful.
	BugEarlyAck BugMode = "early-ack"
	// BugLostRestart discards the WAL and snapshots when the node starts, but
	// keeps its identity (see memberIdentity): the node forgets the writes it
	// acknowledged, its term and the votes it cast, and re-enters the
	// cluster the way it first did; a founding member bootstraps the initial
	// cluster again. One such node is repaired by the others; a majority
	// crashing at once (the whole cluster losing power) loses committed
	// writes.
	BugLostRestart BugMode = "lost-restart"
	// BugWatchSkipAfterRestart breaks the promise that a watcher sees every
	// event: on a node that restarted from its data directory, a watch
	// created with a start revision (a watch resuming where it left off,
	// as clientv3 resumes one after its stream broke) silently drops the
	// first event it would deliver. Other watchers, and watches from "now",
	// see everything.
	BugWatchSkipAfterRestart BugMode = "watch-skip-after-restart"
	// BugLeaseFollowerExpiry breaks the promise that only the leader
	// expires leases, through raft: a node that has known no leader for
	// longer than a lease's TTL expires the lease by its own clock and
	// revokes it in its own state only. Its copy of the store loses the
	// lease's keys (and moves to a revision of its own) while the cluster,
	// whose leader may well still be renewing the lease, keeps them. Once
	// it hears from a leader again it serves the lease's keys as gone: a
	// lock its holder keeps alive looks free to a client on that node.
	BugLeaseFollowerExpiry BugMode = "lease-follower-expiry"
)

// allBugModes lists the modes --bug accepts, in the order help text shows.
var allBugModes = []BugMode{BugStaleRead, BugEarlyAck, BugLostRestart, BugWatchSkipAfterRestart, BugLeaseFollowerExpiry}

// ParseBugMode reads a --bug value; the empty string and "none" mean no bug.
func ParseBugMode(s string) (BugMode, error) {
	if s == "" || s == "none" {
		return BugNone, nil
	}
	for _, m := range allBugModes {
		if string(m) == s {
			return m, nil
		}
	}
	return BugNone, fmt.Errorf("unknown bug mode %q (allowed: none, %s)", s, bugModeList())
}

// bugModeList names every bug mode, comma-separated.
func bugModeList() string {
	names := make([]string, len(allBugModes))
	for i, m := range allBugModes {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// BugAnnouncement is the line a node logs at start when a bug mode is on, so
// that nobody mistakes a buggy node for a correct one when reading its log.
func BugAnnouncement(m BugMode) string {
	return "KVNODE BUG MODE ENABLED: " + string(m)
}

// announce logs the bug mode loudly, or nothing for a correct node.
func (m BugMode) announce(lg *zap.Logger) {
	if m == BugNone {
		return
	}
	lg.Warn(BugAnnouncement(m), zap.String("bug", string(m)),
		zap.String("meaning", "this node breaks consistency on purpose; never use it outside fault-injection tests"))
}
