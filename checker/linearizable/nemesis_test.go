package linearizable

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

func nemesisOp(ms int, t harness.Type, f, value string) harness.Op {
	op := harness.Op{Process: harness.NemesisProcess, Type: t, F: f, Time: time.Duration(ms) * time.Millisecond}
	if value != "" {
		op.Value = json.RawMessage(value)
	}
	return op
}

// TestNemesisWindows: start-*/stop-*, kill/start and heal bound windows;
// a window nothing closes runs to the end of the history; other nemesis
// ops are points; client ops are ignored.
func TestNemesisWindows(t *testing.T) {
	ms := func(n int) int64 { return int64(time.Duration(n) * time.Millisecond) }
	h := harness.History{
		nemesisOp(10, harness.Invoke, "start-partition", `{"layout":"halves"}`),
		nemesisOp(12, harness.OK, "start-partition", `[["n1"],["n2","n3"]]`),
		{Process: 0, Type: harness.Invoke, F: "read", Key: "r0", Time: 13 * time.Millisecond},
		nemesisOp(20, harness.Invoke, "stop-partition", ""),
		{Process: 0, Type: harness.OK, F: "read", Key: "r0", Value: json.RawMessage("null"), Time: 21 * time.Millisecond},
		nemesisOp(22, harness.OK, "stop-partition", ""),
		nemesisOp(30, harness.Invoke, "kill", `{"targets":"one"}`),
		nemesisOp(31, harness.Info, "kill", ""),
		nemesisOp(35, harness.Invoke, "start-pause", ""),
		nemesisOp(36, harness.OK, "start-pause", `{"nodes":["n2"]}`),
		nemesisOp(40, harness.Invoke, "heal", ""),
		nemesisOp(45, harness.OK, "heal", ""),
		nemesisOp(50, harness.Invoke, "leader-transfer", ""),
		nemesisOp(51, harness.OK, "leader-transfer", `"n3"`),
		nemesisOp(60, harness.Invoke, "start-partition", `{"layout":"one"}`),
		nemesisOp(61, harness.OK, "start-partition", `[["n2"],["n1","n3"]]`),
		{Process: 1, Type: harness.Invoke, F: "write", Key: "r1", Value: json.RawMessage("1"), Time: 70 * time.Millisecond},
	}
	for i := range h {
		h[i].Index = i
	}
	// window is what the annotations show of each fault.Windows window.
	type window struct {
		Kind        string
		Start, End  int64
		Description string
	}
	var got []window
	for _, w := range fault.Windows(h) {
		got = append(got, window{Kind: w.Legend(), Start: int64(w.Start), End: int64(w.Healed), Description: describeFault(w.Began)})
	}
	want := []window{
		{Kind: "partition", Start: ms(10), End: ms(22), Description: `start-partition [["n1"],["n2","n3"]]`},
		{Kind: "kill", Start: ms(30), End: ms(45), Description: `kill {"targets":"one"} (info)`},
		{Kind: "pause", Start: ms(35), End: ms(45), Description: `start-pause {"nodes":["n2"]}`},
		{Kind: "leader-transfer", Start: ms(50), End: ms(51), Description: `leader-transfer "n3"`},
		{Kind: "partition", Start: ms(60), End: ms(70), Description: `start-partition [["n2"],["n1","n3"]]`},
	}
	require.Equal(t, want, got)

	annotations := nemesisAnnotations(h)
	require.Len(t, annotations, len(want))
	require.Equal(t, "nemesis partition", annotations[0].Tag)
	require.Contains(t, annotations[0].Details, "0.010s to 0.022s")
}

// TestCompareKeys: keys sort naturally, and the order is total.
func TestCompareKeys(t *testing.T) {
	keys := []string{"r10", "x", "r2", "", "r", "r02", "r10x", "r1", "a99999999999999999999999"}
	slices.SortFunc(keys, compareKeys)
	require.Equal(t, []string{"", "a99999999999999999999999", "r", "r1", "r02", "r2", "r10", "r10x", "x"}, keys)
	for _, a := range keys {
		for _, b := range keys {
			require.Equal(t, -compareKeys(b, a), compareKeys(a, b), "%q vs %q", a, b)
		}
	}
}

func TestFileName(t *testing.T) {
	for key, want := range map[string]string{
		"r12":           "r12",
		"":              "_",
		"..":            "_..",
		"a/b":           "a_b",
		"/etc/passwd":   "_etc_passwd",
		"k-1_x.y":       "k-1_x.y",
		"ключ":          "____",
		"with space\n!": "with_space__",
	} {
		require.Equal(t, want, fileName(key), "key %q", key)
	}
}
