package watch

import (
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// toResponse converts one watch response as the history keeps it, with keys
// relative to prefix.
func toResponse(resp clientv3.WatchResponse, prefix string) Response {
	r := Response{
		Revision:        resp.Header.GetRevision(),
		Created:         resp.Created,
		Progress:        resp.IsProgressNotify(),
		Canceled:        resp.Canceled,
		CompactRevision: resp.CompactRevision,
	}
	if err := resp.Err(); err != nil {
		r.Error = err.Error()
	}
	for _, ev := range resp.Events {
		e := Event{Revision: ev.Kv.ModRevision, Key: strings.TrimPrefix(string(ev.Kv.Key), prefix), Type: TypePut}
		if ev.Type == clientv3.EventTypeDelete {
			e.Type = TypeDelete
		} else {
			e.Value = string(ev.Kv.Value)
		}
		if ev.PrevKv != nil {
			prev := string(ev.PrevKv.Value)
			e.PrevValue, e.PrevRevision = &prev, ev.PrevKv.ModRevision
		}
		r.Events = append(r.Events, e)
	}
	return r
}

// vouched is the revision up to which r says its watch has delivered
// everything: its last event's, or a progress notification's; 0 if r
// says nothing.
func (r Response) vouched() int64 {
	if n := len(r.Events); n > 0 {
		return r.Events[n-1].Revision
	}
	if r.Progress {
		return r.Revision
	}
	return 0
}
