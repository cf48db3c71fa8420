package linearizable

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/harness"
)

// keyHistory is the porcupine history of one independent key.
type keyHistory struct {
	key string
	ops []porcupine.Operation
	// open counts ops with an open-ended return (info or never completed).
	open int
	// decodeErr is the first op the model could not decode; the key is
	// then unknown rather than judged on a partial history.
	decodeErr error
}

// opMeta is the porcupine metadata of an operation: the history op behind
// it, for reports and the visualization.
type opMeta struct {
	invoke     harness.Op
	completion *harness.Op
}

// partition turns the client ops of h into one porcupine history per key,
// in natural key order. Fail ops are dropped, since they certainly did not
// happen; so are ops the model declines. dropped counts both.
func partition(h harness.History, decode func(harness.Op, *harness.Op) (any, any, bool, error)) (keys []keyHistory, dropped int) {
	index := map[string]int{}
	for _, p := range h.Pairs() {
		if !p.Invoke.IsClient() {
			continue
		}
		if p.Completion != nil && p.Completion.Type == harness.Fail {
			dropped++
			continue
		}
		i, ok := index[p.Invoke.Key]
		if !ok {
			i = len(keys)
			index[p.Invoke.Key] = i
			keys = append(keys, keyHistory{key: p.Invoke.Key})
		}
		k := &keys[i]
		if k.decodeErr != nil {
			continue
		}
		input, output, keep, err := decode(p.Invoke, p.Completion)
		if err != nil {
			k.decodeErr = fmt.Errorf("decode op %d (%s on %q): %w", p.Invoke.Index, p.Invoke.F, p.Invoke.Key, err)
			continue
		}
		if !keep {
			dropped++
			continue
		}
		ret := int64(openReturn)
		if p.Completion != nil && p.Completion.Type == harness.OK {
			ret = int64(p.Completion.Time)
		} else {
			k.open++
		}
		k.ops = append(k.ops, porcupine.Operation{
			ClientId: int(p.Invoke.Process),
			Input:    input,
			Call:     int64(p.Invoke.Time),
			Output:   output,
			Return:   ret,
			Metadata: opMeta{invoke: p.Invoke, completion: p.Completion},
		})
	}
	for i := range keys {
		denseClients(keys[i].ops)
	}
	slices.SortFunc(keys, func(a, b keyHistory) int { return compareKeys(a.key, b.key) })
	return keys, dropped
}

// denseClients renumbers the processes of one key 0..n-1 in process order.
// The visualization draws a row for every client id up to the largest, and
// processes grow without bound as info ops retire them; the real process
// stays visible in each op's metadata.
func denseClients(ops []porcupine.Operation) {
	var procs []int
	for _, op := range ops {
		procs = append(procs, op.ClientId)
	}
	slices.Sort(procs)
	procs = slices.Compact(procs)
	for i := range ops {
		ops[i].ClientId, _ = slices.BinarySearch(procs, ops[i].ClientId)
	}
}

// compareKeys orders keys naturally: r2 before r10. A key is read as a
// prefix and a trailing decimal number, and ordered by prefix, then number,
// then the whole string, which is a total order.
func compareKeys(a, b string) int {
	ap, an := splitNumber(a)
	bp, bn := splitNumber(b)
	return cmp.Or(strings.Compare(ap, bp), cmp.Compare(an, bn), strings.Compare(a, b))
}

// splitNumber splits a trailing decimal number off s. A key without one
// (or with one too large for uint64) is all prefix, with number zero.
func splitNumber(s string) (prefix string, n uint64) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, err := strconv.ParseUint(s[i:], 10, 64)
	if err != nil {
		return s, 0
	}
	return s[:i], n
}

// describeMeta names the history op behind a porcupine operation: its
// index, process and node, and why its outcome is unknown.
func describeMeta(meta any) string {
	m, ok := meta.(opMeta)
	if !ok {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "op %d, process %v", m.invoke.Index, m.invoke.Process)
	if m.invoke.Node != "" {
		fmt.Fprintf(&b, " on %s", m.invoke.Node)
	}
	switch {
	case m.completion == nil:
		b.WriteString(", never completed")
	case m.completion.Type != harness.OK:
		fmt.Fprintf(&b, ", %s", m.completion.Type)
		if m.completion.Error != "" {
			fmt.Fprintf(&b, ": %s", m.completion.Error)
		}
	}
	return b.String()
}
