package watch

import (
	"slices"

	"github.com/faultline/faultline/harness"
)

// Op functions of the watch workload. Keys are named relative to the
// workload's prefix: "k0", "k1", ...; op.Key holds the key of a put or a
// delete.
const (
	// Put puts an int, unique over the run, to op.Key: its invocation's
	// value is the int, an ok completion's a WriteResult.
	Put = "put"
	// Delete deletes op.Key: no invocation value, an ok completion's is a
	// WriteResult.
	Delete = "delete"
	// Txn applies a []Mutation on distinct keys in one unconditional
	// Txn, so at one revision; an ok completion's value is a WriteResult.
	Txn = "txn"
	// Compact compacts the store's history: a client's compaction (the
	// workload's option compact-every) takes the store's revision and
	// compacts CompactKeep revisions behind it, or with CompactAtDelete
	// on the writer's newest delete at or below that; a nemesis's has the
	// same f. Either completion's value is a CompactValue.
	Compact = "compact"
	// Watch reads the process's watch stream for a window: its
	// invocation's value is the WatchSpec of the process's current
	// session, its completion's a WatchValue. It completes ok when it
	// read anything from the stream, fail when the stream broke before
	// it gave anything but its creation or cancellation (the value is
	// kept), never info.
	Watch = "watch"
	// FinalWatch, after the final heal, replays the whole prefix's
	// history on one node, page by page, up to the revision a
	// linearizable read returns; its completion's value is a FinalValue.
	FinalWatch = "final-watch"
)

// Event types, as etcd names them.
const (
	TypePut    = "PUT"
	TypeDelete = "DELETE"
)

// Mutation is one change of a Txn.
type Mutation struct {
	// Type is TypePut or TypeDelete.
	Type string `json:"type"`
	Key  string `json:"key"`
	// Value is the int a put writes.
	Value int `json:"value,omitempty"`
}

// WriteResult is the value of an ok put, delete or txn.
type WriteResult struct {
	// Revision is the response header's revision: the revision the write
	// created, or the store's revision when it changed nothing (deletes
	// of keys that did not exist).
	Revision int64 `json:"revision"`
	// Deleted counts the keys each delete removed (0 or 1), by key.
	Deleted map[string]int64 `json:"deleted,omitempty"`
}

// CompactValue is the value of a compaction: the revision compacted to
// (every revision below it is gone) and, for a nemesis's, the node asked.
type CompactValue struct {
	Revision int64  `json:"revision"`
	Node     string `json:"node,omitempty"`
}

// Start modes of a WatchSpec.
const (
	// StartFirst watches from revision 1: the whole history.
	StartFirst = "first"
	// StartNow watches from revision 0: whatever comes after the
	// serving node's current revision.
	StartNow = "now"
	// StartOld watches from Offset revisions below the serving node's
	// revision.
	StartOld = "old"
	// StartFuture watches from Offset revisions above it.
	StartFuture = "future"
)

// Starts lists where a rotating session may watch from, in the order
// its turn goes through them.
var Starts = []string{StartNow, StartOld, StartFuture, StartFirst}

// ParseStarts parses a --watch-starts value: some of Starts,
// comma-separated, none twice, in any order; they are used in Starts'
// order.
func ParseStarts(v string) ([]string, error) {
	named, err := harness.ParseWords(v, Starts, "start")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range Starts {
		if slices.Contains(named, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// Filters of a WatchSpec, as etcd names them.
const (
	FilterNoPut    = "NOPUT"
	FilterNoDelete = "NODELETE"
)

// WatchSpec is what a watch session watches and how. A watcher process
// runs one session after another; within a session it resumes after the
// last revision it saw (an event, or a progress notification) whenever
// the stream breaks, each time as a new watch of the same spec.
type WatchSpec struct {
	// Session numbers the session; unique within the run.
	Session int `json:"session"`
	// Key is the watched key; with End, the range [Key, End); with
	// Prefix, every key of the workload (Key and End empty).
	Key    string `json:"key,omitempty"`
	End    string `json:"end,omitempty"`
	Prefix bool   `json:"prefix,omitempty"`
	// Start is StartFirst, StartNow, StartOld or StartFuture; Offset the
	// distance of StartOld and StartFuture.
	Start  string `json:"start"`
	Offset int64  `json:"offset,omitempty"`
	// PrevKV asks for each event's previous key-value (WithPrevKV).
	PrevKV bool `json:"prev_kv,omitempty"`
	// Filter is empty, FilterNoPut or FilterNoDelete.
	Filter string `json:"filter,omitempty"`
	// ProgressNotify asks etcd for periodic progress notifications
	// (WithProgressNotify); RequestProgress makes every window ask for
	// one (RequestProgress).
	ProgressNotify  bool `json:"progress_notify,omitempty"`
	RequestProgress bool `json:"request_progress,omitempty"`
	// Failover gives the watch every member's endpoint; otherwise it
	// talks to its pinned node only. RequireLeader makes a node that lost
	// its leader cancel the watch (WithRequireLeader).
	Failover      bool `json:"failover,omitempty"`
	RequireLeader bool `json:"require_leader,omitempty"`
	// Windows is how many watch ops the session lasts; 0 is the whole
	// run.
	Windows int `json:"windows,omitempty"`
}

// Event is one watch event as delivered.
type Event struct {
	Revision int64 `json:"revision"`
	// Key is relative to the workload's prefix.
	Key string `json:"key"`
	// Type is TypePut or TypeDelete.
	Type string `json:"type"`
	// Value is a put's value; empty for a delete.
	Value string `json:"value,omitempty"`
	// PrevValue and PrevRevision are the previous key-value's value and
	// mod revision, when etcd delivered one (WithPrevKV).
	PrevValue    *string `json:"prev_value,omitempty"`
	PrevRevision int64   `json:"prev_revision,omitempty"`
}

// Response is one watch response as delivered: the unit Atomic is judged
// by.
type Response struct {
	// Revision is the response header's revision.
	Revision int64 `json:"revision"`
	// Created marks the watch's creation (WithCreatedNotify): Revision is
	// then the serving node's revision when it registered the watch.
	Created bool `json:"created,omitempty"`
	// Progress marks a progress notification: everything up to Revision
	// has been delivered.
	Progress bool    `json:"progress,omitempty"`
	Events   []Event `json:"events,omitempty"`
	// Canceled marks the watch's end by the server; CompactRevision is
	// set when it ended because its next revision was compacted (every
	// revision below CompactRevision is gone). Error is Err() of the
	// response.
	Canceled        bool   `json:"canceled,omitempty"`
	CompactRevision int64  `json:"compact_revision,omitempty"`
	Error           string `json:"error,omitempty"`
}

// WatchValue is the value of a completed watch op: what one window read
// from one watch of the session.
type WatchValue struct {
	// Watch numbers the session's watches: each (re)open is a new one.
	Watch int `json:"watch"`
	// From is set when this op opened the watch: the revision asked for
	// (0 is now).
	From *int64 `json:"from,omitempty"`
	// Responses are what the stream gave during the window, in order.
	Responses []Response `json:"responses,omitempty"`
	// Error is why the stream broke during the window, if it did; the
	// next op opens a new watch, resuming after the last revision seen.
	Error string `json:"error,omitempty"`
}

// FinalPage is one page of a final watch: a watch of the whole prefix
// from From until it reaches its page's end.
type FinalPage struct {
	From      int64      `json:"from"`
	Responses []Response `json:"responses,omitempty"`
	Error     string     `json:"error,omitempty"`
}

// FinalValue is the value of a final watch.
type FinalValue struct {
	// Target is the header revision of a linearizable read of the
	// prefix after the heal: the history to replay ends there.
	Target int64 `json:"target"`
	// Complete says every page was read up to Target.
	Complete bool `json:"complete"`
	// Pages are the watches, from the start revision on; a page that
	// was cancelled as compacted is followed by one from the compact
	// revision.
	Pages []FinalPage `json:"pages,omitempty"`
	// Error is why the replay stopped short of Target.
	Error string `json:"error,omitempty"`
}
