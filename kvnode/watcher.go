package kvnode

import (
	"bytes"
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/faultline/faultline/kvnode/kvstore"
)

// maxEventsPerResponse bounds the events of one watch response; the events
// of one revision are never split, so a revision holding more is sent whole.
const maxEventsPerResponse = 1000

// The cancel reasons etcd gives a watch it could not create.
var (
	errWatchRangeEmpty  = errors.New("mvcc: watcher range is empty")
	errWatchDuplicateID = errors.New("mvcc: duplicate watch ID provided on the WatchStream")
)

// watcher is one watch of a stream. A watcher is a cursor into the local
// history: next is the first revision it has not been sent. Events are
// never pushed to it; its stream pulls them from the history whenever the
// state changed, so that nothing is sent twice, out of order or skipped,
// however far behind the client is. A watcher that falls behind the
// compaction point is canceled with the compaction revision, as in etcd.
type watcher struct {
	id       int64
	keys     kvstore.KeyInterval
	startRev int64
	next     int64
	prevKV   bool
	noPut    bool
	noDelete bool
	// progressNotify asks for periodic progress notifications;
	// sentSinceTick says events went out since the last period.
	progressNotify bool
	sentSinceTick  bool
	// skipFirst is BugWatchSkipAfterRestart: the first event to be sent is
	// dropped instead.
	skipFirst bool
}

// newWatcher checks a create request as etcd does and returns its watcher.
// current is the revision at creation: a watch from revision 0 starts after
// it.
func newWatcher(id int64, req *pb.WatchCreateRequest, current int64) (*watcher, error) {
	key := req.GetKey()
	if len(key) == 0 {
		key = []byte{0} // the smallest key
	}
	end := req.GetRangeEnd()
	fromKey := len(end) == 1 && end[0] == 0
	if len(end) > 0 && !fromKey && bytes.Compare(key, end) >= 0 {
		return nil, errWatchRangeEmpty
	}
	w := &watcher{
		id:             id,
		keys:           kvstore.NewKeyInterval(key, end),
		startRev:       req.GetStartRevision(),
		next:           req.GetStartRevision(),
		prevKV:         req.GetPrevKv(),
		progressNotify: req.GetProgressNotify(),
	}
	if w.next == 0 {
		w.next = current + 1
	}
	for _, f := range req.GetFilters() {
		switch f {
		case pb.WatchCreateRequest_NOPUT:
			w.noPut = true
		case pb.WatchCreateRequest_NODELETE:
			w.noDelete = true
		}
	}
	return w, nil
}

// synced reports whether the watcher has been sent everything up to rev,
// and is due to hear about rev at all (a watch from a future revision is
// not synced before it): etcd sends progress only to synced watchers.
func (w *watcher) synced(rev int64) bool {
	return w.next > rev && w.startRev <= rev
}

// filter drops the events the watcher's filters exclude.
func (w *watcher) filter(evs []*mvccpb.Event) []*mvccpb.Event {
	if !w.noPut && !w.noDelete {
		return evs
	}
	kept := evs[:0]
	for _, ev := range evs {
		if (ev.Type == mvccpb.Event_PUT && w.noPut) || (ev.Type == mvccpb.Event_DELETE && w.noDelete) {
			continue
		}
		kept = append(kept, ev)
	}
	return kept
}
