package fault

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// TestEveryKindIsComplete walks the registry: a kind described in part (no
// colour, no stop op, an option whose default its own check refuses, an op
// that another kind uses too) fails here before it confuses a report.
func TestEveryKindIsComplete(t *testing.T) {
	hex := regexp.MustCompile(`^#[0-9a-f]{6}$`)
	layers := []Layer{Network, Process, Membership, Admin, Disk}
	effects := []Effect{Cut, Down, Removed, Degraded, Instant}
	kernels := []string{"", KernelStatistic, KernelTBF, KernelNetem}
	ops := map[string]string{}
	colors := map[string]string{}
	options := map[string]string{}
	for _, k := range All {
		assert.NotEmpty(t, k.Name, "a kind without a name")
		assert.NotEmpty(t, k.Summary, "%s: no summary", k.Name)
		assert.NotEmpty(t, k.Start, "%s: no start op", k.Name)
		assert.Contains(t, layers, k.Layer, "%s: layer %q", k.Name, k.Layer)
		assert.Contains(t, effects, k.Effect, "%s: effect %q", k.Name, k.Effect)
		assert.Contains(t, kernels, k.Kernel, "%s: kernel feature %q", k.Name, k.Kernel)
		assert.Equal(t, k.Effect == Instant, k.Stop == "", "%s: only an instant kind has no stop op", k.Name)
		for _, op := range []string{k.Start, k.Stop} {
			if op == "" {
				continue
			}
			assert.NotEqual(t, Heal, op, "%s: heal is no kind's op", k.Name)
			assert.Empty(t, ops[op], "%s: op %s is %s's too", k.Name, op, ops[op])
			ops[op] = k.Name
			got, edge := Of(op)
			assert.Equal(t, k.Name, got.Name, op)
			assert.NotEqual(t, NoEdge, edge, op)
		}
		for i, c := range []string{k.Color, k.StopColor} {
			if c == "" && (i == 1 && (!k.Points || k.Stop == "")) {
				continue
			}
			assert.Regexp(t, hex, c, "%s: colour %q", k.Name, c)
			assert.Empty(t, colors[c], "%s has the colour of %s", k.Name, colors[c])
			colors[c] = k.Name
		}
		assert.NotEqual(t, OtherColor, k.Color, "%s: grey is for unknown faults", k.Name)
		for _, o := range k.Options {
			assert.NotEmpty(t, o.Usage, "%s: option %s has no usage", k.Name, o.Name)
			assert.NoError(t, o.Validate(o.Default), "%s: option %s refuses its own default", k.Name, o.Name)
			assert.Empty(t, options[o.Name], "%s: option %s is %s's too", k.Name, o.Name, options[o.Name])
			options[o.Name] = k.Name
		}
	}
	assert.Equal(t, len(All), len(Names()))
	k, ok := Lookup("kill")
	require.True(t, ok)
	assert.Equal(t, Kill, k.Start)
	_, ok = Lookup("flood")
	assert.False(t, ok)
}

func TestParseList(t *testing.T) {
	f, err := ParseList("partition,kill,pause")
	require.NoError(t, err)
	assert.Equal(t, []string{"partition", "kill", "pause"}, f)
	f, err = ParseList("none")
	require.NoError(t, err)
	assert.Empty(t, f)
	_, err = ParseList("partition,flood")
	assert.ErrorContains(t, err, `unknown fault "flood"`)
	_, err = ParseList("partition,kill,partition")
	assert.ErrorContains(t, err, "named twice")
}

func TestParseTargets(t *testing.T) {
	got, err := ParseTargets("minority")
	require.NoError(t, err)
	assert.Equal(t, "minority", got["pause"])
	assert.Equal(t, "minority", got["loss"])
	got, err = ParseTargets("one,pause=leader,kill=all")
	require.NoError(t, err)
	want := map[string]string{}
	for _, k := range Targeted() {
		want[k] = "one"
	}
	want["kill"], want["pause"] = "all", "leader"
	assert.Equal(t, want, got)
	for in, want := range map[string]string{
		"everyone":               "unknown target choice",
		"partition=leader":       "takes no targets",
		"kill=one,kill=all":      "two target choices",
		"one,minority":           "two target choices for every fault",
		"pause=leader,pause=all": "fault pause is given two",
	} {
		_, err := ParseTargets(in)
		assert.ErrorContains(t, err, want, in)
	}
}

func nemesisOp(ms int, typ harness.Type, f, value string) harness.Op {
	op := harness.Op{Process: harness.NemesisProcess, Type: typ, F: f, Time: time.Duration(ms) * time.Millisecond}
	if value != "" {
		op.Value = json.RawMessage(value)
	}
	return op
}

// TestWindows: a kind's start and stop, and the heal, bound windows; a
// window nothing closes runs to the end of the history; a second start of
// a kind in force extends the first; membership steps and unknown ops are
// points; client ops are ignored; labels name what was hit.
func TestWindows(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	h := harness.History{
		nemesisOp(10, harness.Invoke, StartPartition, `{"layout":"halves"}`),
		nemesisOp(12, harness.OK, StartPartition, `{"layout":"halves","groups":[["n1"],["n2","n3"]]}`),
		{Process: 0, Type: harness.Invoke, F: "read", Time: ms(13)},
		nemesisOp(20, harness.Invoke, StopPartition, ""),
		{Process: 0, Type: harness.OK, F: "read", Time: ms(21)},
		nemesisOp(22, harness.OK, StopPartition, ""),
		nemesisOp(30, harness.Invoke, Kill, `{"targets":"one"}`),
		nemesisOp(31, harness.Info, Kill, `{"nodes":["n2"]}`),
		nemesisOp(32, harness.Invoke, MemberRemove, `{"node":"n3"}`),
		nemesisOp(33, harness.OK, MemberRemove, `{"node":"n3"}`),
		nemesisOp(34, harness.Invoke, Kill, `{"targets":"one"}`),
		nemesisOp(35, harness.OK, Kill, `{"nodes":["n1"]}`),
		nemesisOp(40, harness.Invoke, Heal, ""),
		nemesisOp(45, harness.OK, Heal, ""),
		nemesisOp(50, harness.Invoke, "clock-bump", ""),
		nemesisOp(51, harness.OK, "clock-bump", `"n3"`),
		nemesisOp(60, harness.Invoke, StartPartition, `{"layout":"one"}`),
		{Process: 1, Type: harness.Invoke, F: "write", Time: ms(70)},
	}
	for i := range h {
		h[i].Index = i
	}
	ws := Windows(h)
	require.Len(t, ws, 5)
	type got struct {
		kind, legend, label string
		start, healed       time.Duration
		point               bool
	}
	var gots []got
	for _, w := range ws {
		gots = append(gots, got{w.Kind, w.Legend(), w.Label, w.Start, w.Healed, w.Point})
	}
	assert.Equal(t, []got{
		{"partition", "partition", "partition n1 | n2,n3", ms(10), ms(22), false},
		{"kill", "kill", "kill n2 (info)", ms(30), ms(45), false},
		{"member", MemberRemove, "member-remove n3", ms(32), ms(33), true},
		{"clock-bump", "clock-bump", "clock-bump n3", ms(50), ms(51), true},
		{"partition", "partition", "partition one (never completed)", ms(60), ms(70), false},
	}, gots)
	assert.Equal(t, 1, ws[1].Reopened, "the second kill began inside the first")
	assert.Equal(t, ms(40), ws[1].End)
	assert.Equal(t, Heal, ws[1].ClosedBy)
	assert.Equal(t, "end of history", ws[4].ClosedBy)
	assert.Equal(t, "#f2b88c", ws[2].Color())
	assert.Equal(t, OtherColor, ws[3].Color())
	k, _ := Lookup("partition")
	assert.Equal(t, k.Color, ws[0].Color())
	assert.True(t, slices.IndexFunc(ws, func(w Window) bool { return w.Kind == "read" }) < 0, "client ops open nothing")
}

// TestForeignOps: start-<x> and stop-<x> of a kind faultline does not
// know still bound a window of that name, as Jepsen's :start-pause does.
func TestForeignOps(t *testing.T) {
	k, edge := Of("start-clock-skew")
	assert.Equal(t, "clock-skew", k.Name)
	assert.Equal(t, Opens, edge)
	_, edge = Of("stop-clock-skew")
	assert.Equal(t, Closes, edge)
	_, edge = Of("rebalance")
	assert.Equal(t, NoEdge, edge)
	_, edge = Of(Heal)
	assert.Equal(t, HealsAll, edge)
}

// TestOf: each op's kind and edge, as the reports and checkers read them.
func TestOf(t *testing.T) {
	type edge struct {
		kind string
		edge Edge
	}
	for f, want := range map[string]edge{
		"kill":            {"kill", Opens},
		"start":           {"kill", Closes},
		"pause":           {"pause", Opens},
		"resume":          {"pause", Closes},
		"start-partition": {"partition", Opens},
		"stop-partition":  {"partition", Closes},
		"start-crash":     {"crash", Opens},
		"heal":            {"", HealsAll},
		"member-remove":   {"member", Opens},
		"member-add":      {"member", Closes},
		"compact":         {"compact", Opens},
		"rebalance":       {"", NoEdge},
	} {
		k, e := Of(f)
		assert.Equal(t, want, edge{k.Name, e}, f)
	}
	k, _ := Of("member-remove")
	assert.True(t, k.Points, "membership steps are points in the reports")
}
