package kvnode

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.uber.org/zap"

	"github.com/faultline/faultline/kvnode/kvstore"
)

// watchService serves etcd's Watch API from this node's applied state, as
// etcd does: a follower serves watches from what it has applied.
type watchService struct {
	pb.UnimplementedWatchServer
	s *Server
}

// Watch serves one bidirectional watch stream until the client ends it,
// the server stops, or (for a client that asked for a leader) this node
// loses its leader.
func (w *watchService) Watch(stream pb.Watch_WatchServer) error {
	ws := &watchStream{
		s:        w.s,
		stream:   stream,
		reqs:     make(chan *pb.WatchRequest),
		watchers: make(map[int64]*watcher),
	}
	return ws.run()
}

// watchStream is the server side of one Watch stream. One goroutine (run)
// owns the watchers and does every send, so responses of one watcher go out
// in order: its created response first, then its events, then its cancel.
// Another goroutine reads requests and hands them over.
type watchStream struct {
	s        *Server
	stream   pb.Watch_WatchServer
	reqs     chan *pb.WatchRequest
	watchers map[int64]*watcher
	nextID   int64
	// progressRequested is a WatchProgressRequest not answered yet: it is
	// answered once every watcher of the stream is synced.
	progressRequested bool
}

func (ws *watchStream) run() error {
	ctx := ws.stream.Context()
	recvErr := make(chan error, 1)
	go ws.recvLoop(ctx, recvErr)
	// As etcd, jitter the period so that streams opened together do not
	// all report at once.
	interval := ws.s.cfg.watchProgressInterval()
	ticker := time.NewTicker(interval + rand.N(interval/10+1))
	defer ticker.Stop()
	for {
		changed := ws.s.kvChanged.wait()
		_, behind, err := ws.sync()
		if err != nil {
			return err
		}
		if behind {
			// More history to send: go round again, after a look at the
			// requests.
			changed = closedChan
		}
		select {
		case req := <-ws.reqs:
			if err := ws.handle(req); err != nil {
				return err
			}
		case err := <-recvErr:
			return err
		case <-changed:
		case <-ticker.C:
			if err := ws.progressTick(); err != nil {
				return err
			}
		case <-ctx.Done():
			return streamError(ctx, rpctypes.ErrGRPCWatchCanceled)
		case <-ws.s.stopping:
			return rpctypes.ErrGRPCStopped
		}
	}
}

// Watch IDs with a meaning of their own, as clientv3 defines them: a create
// request with autoWatchID asks the server to choose, and a response with
// invalidWatchID concerns no single watcher (a refused create, a progress
// notification for the whole stream).
const (
	autoWatchID    = 0
	invalidWatchID = -1
)

// closedChan is always ready.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// recvLoop hands the client's requests to run. A client that closes its
// side of the stream keeps receiving events, as with etcd.
func (ws *watchStream) recvLoop(ctx context.Context, errc chan<- error) {
	for {
		req, err := ws.stream.Recv()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			errc <- err
			return
		}
		select {
		case ws.reqs <- req:
		case <-ctx.Done():
			return
		}
	}
}

func (ws *watchStream) handle(req *pb.WatchRequest) error {
	switch {
	case req.GetCreateRequest() != nil:
		return ws.create(req.GetCreateRequest())
	case req.GetCancelRequest() != nil:
		id := req.GetCancelRequest().GetWatchId()
		if _, ok := ws.watchers[id]; !ok {
			return nil
		}
		delete(ws.watchers, id)
		return ws.stream.Send(&pb.WatchResponse{Header: ws.header(ws.currentRevision()), WatchId: id, Canceled: true})
	case req.GetProgressRequest() != nil:
		ws.progressRequested = true
		return nil
	default:
		// etcd ignores what it does not understand, without closing the
		// stream.
		return nil
	}
}

// create adds a watcher and sends its created response, or a created and
// canceled one with etcd's reason when the request is invalid.
func (ws *watchStream) create(req *pb.WatchCreateRequest) error {
	rev := ws.currentRevision()
	refuse := func(reason string) error {
		return ws.stream.Send(&pb.WatchResponse{Header: ws.header(rev), WatchId: invalidWatchID, Created: true, Canceled: true, CancelReason: reason})
	}
	if req.GetStartRevision() < 0 {
		return refuse(rpctypes.ErrCompacted.Error())
	}
	id := req.GetWatchId()
	if id == autoWatchID {
		for ws.watchers[ws.nextID] != nil {
			ws.nextID++
		}
		id = ws.nextID
		ws.nextID++
	} else if ws.watchers[id] != nil {
		return refuse(errWatchDuplicateID.Error())
	}
	w, err := newWatcher(id, req, rev)
	if err != nil {
		return refuse(err.Error())
	}
	w.skipFirst = ws.s.cfg.Bug == BugWatchSkipAfterRestart && ws.s.recovered && w.startRev > 0
	ws.watchers[id] = w
	return ws.stream.Send(&pb.WatchResponse{Header: ws.header(rev), WatchId: id, Created: true})
}

// sync sends every watcher the events it has not been sent, and cancels
// the watchers that fell behind the compaction point. rev is the revision
// the watchers were brought up to, and behind reports that some watcher
// still has history to catch up on (its batch was full).
func (ws *watchStream) sync() (rev int64, behind bool, err error) {
	if len(ws.watchers) == 0 {
		ws.progressRequested = false // etcd answers nothing then
		return 0, false, nil
	}
	rev, out, behind := ws.collect()
	for _, resp := range out {
		if err := ws.stream.Send(resp); err != nil {
			return 0, false, err
		}
	}
	if ws.progressRequested && !behind && ws.allSynced(rev) {
		ws.progressRequested = false
		if err := ws.stream.Send(&pb.WatchResponse{Header: ws.header(rev), WatchId: invalidWatchID}); err != nil {
			return 0, false, err
		}
	}
	return rev, behind, nil
}

// collect reads, under the state lock, what sync sends: one response per
// watcher with events, up to maxEventsPerResponse each. rev is the revision
// read at.
func (ws *watchStream) collect() (rev int64, out []*pb.WatchResponse, behind bool) {
	s := ws.s
	s.stateMu.RLock()
	defer s.stateMu.RUnlock()
	kv := s.state.kv
	rev, compacted := kv.Revision(), kv.CompactRevision()
	for _, id := range ws.sortedIDs() {
		w := ws.watchers[id]
		if w.next > rev {
			continue
		}
		if w.next < compacted {
			// As etcd: the watcher is canceled with the compaction
			// revision, which tells the client what it missed.
			delete(ws.watchers, id)
			out = append(out, &pb.WatchResponse{Header: ws.header(rev), WatchId: id, CompactRevision: compacted, Canceled: true})
			continue
		}
		evs, through, err := kv.Events(kvstore.EventsOptions{From: w.next, Keys: w.keys, PrevKV: w.prevKV, MaxEvents: maxEventsPerResponse})
		if err != nil {
			continue // cannot happen: next is not below the compaction point
		}
		w.next = through + 1
		if through < rev {
			behind = true
		}
		evs = w.filter(evs)
		if w.skipFirst && len(evs) > 0 {
			w.skipFirst = false
			s.lg.Warn("KVNODE BUG watch-skip-after-restart: dropping the first event of a resumed watch",
				zap.Int64("watch-id", id), zap.Int64("start-revision", w.startRev),
				zap.String("key", string(evs[0].Kv.Key)), zap.Int64("revision", evs[0].Kv.ModRevision))
			evs = evs[1:]
		}
		if len(evs) == 0 {
			// etcd sends nothing when every event is filtered out.
			continue
		}
		w.sentSinceTick = true
		out = append(out, &pb.WatchResponse{Header: ws.header(through), WatchId: id, Events: evs})
	}
	return rev, out, behind
}

// progressTick sends, as etcd does every progress interval, a progress
// notification to every synced watcher that asked for them and was sent no
// events since the last one.
func (ws *watchStream) progressTick() error {
	rev, behind, err := ws.sync()
	if err != nil || behind {
		return err
	}
	for _, id := range ws.sortedIDs() {
		w := ws.watchers[id]
		due := w.progressNotify && !w.sentSinceTick && w.synced(rev)
		w.sentSinceTick = false
		if !due {
			continue
		}
		if err := ws.stream.Send(&pb.WatchResponse{Header: ws.header(rev), WatchId: id}); err != nil {
			return err
		}
	}
	return nil
}

func (ws *watchStream) allSynced(rev int64) bool {
	for _, w := range ws.watchers {
		if !w.synced(rev) {
			return false
		}
	}
	return true
}

func (ws *watchStream) sortedIDs() []int64 {
	ids := make([]int64, 0, len(ws.watchers))
	for id := range ws.watchers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (ws *watchStream) currentRevision() int64 {
	ws.s.stateMu.RLock()
	defer ws.s.stateMu.RUnlock()
	return ws.s.state.kv.Revision()
}

// header is a complete response header at rev.
func (ws *watchStream) header(rev int64) *pb.ResponseHeader {
	h := &pb.ResponseHeader{Revision: rev}
	ws.s.fillHeader(h, 0)
	return h
}
