package availability

import (
	"sort"
	"time"

	"github.com/faultline/faultline/harness"
)

// span is a half-open interval of test time.
type span struct{ from, to time.Duration }

// busy is the time during which some client of a group had an op in
// flight: the merged union of every op's [invocation, completion), with
// pauses shorter than idleBridge filled in. It is the group's demand. A
// span without an accepted write counts only while there was demand, so a
// client that stopped asking, a low --rate or the quiet after the workload
// phase is never mistaken for an outage.
type busy []span

// idleBridge is the longest pause between a client's ops that still counts
// as waiting: a thread pauses between ops only for the rate's stagger, a
// fraction of a second at any useful rate.
const idleBridge = time.Second

// busyOf merges the in-flight intervals of pairs. An op that never
// completed stays in flight until horizon.
func busyOf(pairs []harness.Pair, horizon time.Duration) busy {
	spans := make([]span, 0, len(pairs))
	for _, p := range pairs {
		end := horizon
		if p.Completion != nil {
			end = p.Completion.Time
		}
		if end > p.Invoke.Time {
			spans = append(spans, span{p.Invoke.Time, end})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	var out busy
	for _, s := range spans {
		if n := len(out); n > 0 && s.from <= out[n-1].to+idleBridge {
			out[n-1].to = max(out[n-1].to, s.to)
			continue
		}
		out = append(out, s)
	}
	return out
}

// longestWithin returns the longest stretch of demand inside [from, to),
// and false if there was none.
func (b busy) longestWithin(from, to time.Duration) (span, bool) {
	var best span
	found := false
	for i := sort.Search(len(b), func(i int) bool { return b[i].to > from }); i < len(b) && b[i].from < to; i++ {
		s := span{max(b[i].from, from), min(b[i].to, to)}
		if !found || s.to-s.from > best.to-best.from {
			best, found = s, true
		}
	}
	return best, found
}

// writeGaps splits [from, to) at every accepted write and returns, for each
// piece, its longest stretch of demand: the time the group waited with no
// write accepted. A gap's to is at most the end of its piece, which is an
// accepted write's completion or to. accepted are the completion times of
// the ok writes, in any order.
func writeGaps(demand busy, accepted []time.Duration, from, to time.Duration) []span {
	cuts := []time.Duration{from}
	sorted := append([]time.Duration(nil), accepted...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	for _, t := range sorted {
		if t > from && t < to {
			cuts = append(cuts, t)
		}
	}
	cuts = append(cuts, to)
	var gaps []span
	for i := 0; i+1 < len(cuts); i++ {
		if g, ok := demand.longestWithin(cuts[i], cuts[i+1]); ok && g.to > g.from {
			gaps = append(gaps, g)
		}
	}
	return gaps
}

// electionGap returns the longest of gaps that began in [from, to): the
// wait that applying a fault caused.
func electionGap(gaps []span, from, to time.Duration) (span, bool) {
	var in []span
	for _, g := range gaps {
		if g.from >= from && g.from < to {
			in = append(in, g)
		}
	}
	return longest(in)
}

// longest returns the longest of spans.
func longest(spans []span) (span, bool) {
	var best span
	for _, s := range spans {
		if s.to-s.from > best.to-best.from {
			best = s
		}
	}
	return best, len(spans) > 0
}
