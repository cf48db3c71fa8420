package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// badInput is one bad command line of faultline test and the flag its
// message must name.
type badInputCase struct {
	args []string
	flag string
}

// badInputs builds the table: every number with garbage, NaN, the
// infinities, overflow and values out of its documented range; every
// word with an unknown one; names, stores, lists with repeats; options of
// faults and workloads not in use.
func badInputs(t *testing.T) []badInputCase {
	var cases []badInputCase
	add := func(flag string, args ...string) { cases = append(cases, badInputCase{args: args, flag: flag}) }
	garbage := []string{"", "abc", "NaN", "nan", "Inf", "+Inf", "-Inf", "1e400", "0x10", "1_000", "1,5", " ", "5s"}
	for _, f := range []struct {
		flag     string
		outRange []string
	}{
		{"time-limit", []string{"0", "-1", "86401", "1e9", "-0.5"}},
		{"rate", []string{"-1", "100001", "1e12"}},
		{"nemesis-interval", []string{"0", "-3", "3601"}},
		{"op-timeout", []string{"0", "-2", "601"}},
		{"check-timeout", []string{"0", "-1", "86401"}},
		{"recover-timeout", []string{"0", "-1", "3601"}},
		{"availability-grace", []string{"-1", "601"}},
		{"majority-gap-bound", []string{"-1", "3601"}},
		{"quorum-restore-bound", []string{"-1", "3601"}},
	} {
		for _, v := range append(garbage, f.outRange...) {
			if v == "5s" && f.flag == "rate" {
				continue
			}
			add(f.flag, "--"+f.flag, v)
		}
	}
	for _, v := range []string{"0", "10", "-1", "abc", "NaN", "1e3", "9223372036854775808", ""} {
		add("nodes", "--nodes", v)
	}
	for _, v := range []string{"0", "1001", "-4", "abc", "0n", "1001n", "9223372036854775807n", "2.5", "n5", ""} {
		add("concurrency", "--concurrency", v)
	}
	for _, v := range []string{"abc", "1.5", "9223372036854775808", "NaN", ""} {
		add("seed", "--seed", v)
	}
	for _, v := range []string{"zookeeper", "", "ETCD", "etcd,kvnode"} {
		add("target", "--target", v)
	}
	for _, v := range []string{"queue", "", "Register", "register,set"} {
		add("workload", "--workload", v)
	}
	for _, v := range []string{"flood", "partition,flood", "partition,,kill", "partition,kill,partition", "Partition"} {
		add("nemesis", "--nemesis", v)
	}
	for _, v := range []string{"sideways", "n1,n2|n3,n9", "n1,n2|n2,n3", "n1|", "|", "n1,n2,n3,n4,n5", "n0|n1,n2,n3,n4"} {
		add("partition", "--partition", v)
	}
	for _, v := range []string{"everyone", "kill=one,kill=all", "one,minority", "partition=leader", "kill=", "=one", "pause=everyone"} {
		add("fault-targets", "--fault-targets", v)
	}
	for _, v := range []string{"everyone", "One", "1"} {
		add("kill-targets", "--kill-targets", v)
	}
	for _, v := range []string{"-1", "6", "abc", "1.5"} {
		add("kill-count", "--kill-count", v)
	}
	for _, v := range []string{"1.5", "-0.1", "NaN", "Inf", "abc", "", "0x1p-1"} {
		add("loss-probability", "--loss-probability", v)
	}
	for _, v := range []string{"fast", "10", "1 mbit", "-1mbit", "100bit", "999gbit", "", "1e9mbit"} {
		add("bandwidth", "--bandwidth", v)
	}
	for _, v := range []string{"0s", "-5ms", "11s", "abc", "50", ""} {
		add("delay", "--delay", v)
	}
	for _, v := range []string{"tree", "", "KEYS"} {
		add("set-mode", "--set-mode", v)
	}
	for _, v := range []string{"0", "1e12", "1.5", "-2", "abc", "3601", "NaN"} {
		add("lock-ttl", "--lock-ttl", v)
	}
	for _, v := range []string{"sideways", "", "Pinned"} {
		add("client-mode", "--client-mode", v)
	}
	for _, v := range []string{"tombstone", "", "Delete", "behind,delete"} {
		add("watch-compact-at", "--workload", "watch", "--watch-compact-at", v)
	}
	add("watch-compact-at", "--workload", "register", "--watch-compact-at", "head")
	for _, v := range []string{"later", "", "Call", "call,traffic"} {
		add("failpoint-trigger", "--nemesis", "failpoint", "--failpoint-trigger", v)
	}
	for _, v := range []string{"a/b", "latest", ".", "..", "a\nb", "tab\there", strings.Repeat("x", 101), "\x00", "x\u0085y"} {
		add("name", "--name", v)
	}
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	add("store", "--store", file)
	add("store", "--store", "")
	for _, v := range []string{"stale-read", "none"} {
		add("target-bug", "--target-bug", v) // etcd has no bug modes
	}
	add("target-bug", "--target", "kvnode", "--target-bug", "lost-everything")
	// Options of faults and workloads not in use are checked too.
	add("bandwidth", "--nemesis", "kill", "--bandwidth", "garbage")
	add("delay", "--nemesis", "kill", "--delay", "-5ms")
	add("loss-probability", "--nemesis", "partition", "--loss-probability", "2")
	add("set-mode", "--workload", "register", "--set-mode", "tree")
	add("lock-ttl", "--workload", "bank", "--lock-ttl", "0")
	// Combinations that make no sense together.
	add("nemesis", "--nemesis", "member", "--nodes", "3")
	add("partition", "--nodes", "3", "--partition", "majorities-ring")
	add("kill-count", "--nodes", "3", "--kill-count", "4")
	add("fault-targets", "--nodes", "1", "--nemesis", "kill", "--fault-targets", "follower")
	add("fault-targets", "--nodes", "1", "--nemesis", "pause", "--fault-targets", "kill=one,pause=follower")
	add("concurrency", "--workload", "watch", "--concurrency", "1")
	add("workload", "--target", "kvnode", "--workload", "watch,set")
	return cases
}

// TestEveryBadInputIsRefused: each bad input is a FlagError that names the
// flag, quotes what was typed where it shows a value, and is short: one
// line, never the value echoed whole.
func TestEveryBadInputIsRefused(t *testing.T) {
	cases := badInputs(t)
	require.GreaterOrEqual(t, len(cases), 150, "the table must try at least 150 bad inputs")
	for _, c := range cases {
		name := strings.Join(c.args, " ")
		_, err := specOf(t, c.args...)
		var fe *harness.FlagError
		if !assert.True(t, errors.As(err, &fe), "%q: want a FlagError, got %v", name, err) {
			continue
		}
		assert.Equal(t, c.flag, fe.Flag, "%q: %v", name, err)
		msg := err.Error()
		assert.NotContains(t, msg, "\n", "%q: one line", name)
		assert.LessOrEqual(t, len(msg), 600, "%q: a short message", name)
		if fe.Value != "" {
			typed := c.args[len(c.args)-1]
			assert.Equal(t, harness.Quote(typed), fe.Value, "%q: the message quotes what was typed", name)
		}
	}
	t.Logf("%d bad inputs refused", len(cases))
}

// TestBadReplayFilesAreRefused: replay files whose steps make no sense in
// order, or that hold unknown fields or names, are refused naming
// --replay.
func TestBadReplayFilesAreRefused(t *testing.T) {
	s, err := specOf(t, "--nodes", "3", "--seed", "9", "--nemesis", "partition,kill,crash")
	require.NoError(t, err)
	raw, err := json.Marshal(s)
	require.NoError(t, err)
	base := string(raw[:len(raw)-1])
	dir := t.TempDir()
	steps := map[string]string{
		"stop without start": `[{"at":1,"f":"stop-crash"}]`,
		"two starts":         `[{"at":1,"f":"start-partition","value":{"layout":"halves","seed":1}},{"at":2,"f":"start-partition","value":{"layout":"halves","seed":1}}]`,
		"kill count 99":      `[{"at":1,"f":"kill","value":{"targets":"one","count":99,"seed":1}}]`,
		"unknown op":         `[{"at":1,"f":"flood"}]`,
		"unknown node":       `[{"at":1,"f":"kill","value":{"nodes":["n7"],"seed":1}}]`,
		"unknown field":      `[{"at":1,"f":"kill","value":{"targets":"one","sed":1}}]`,
		"back in time":       `[{"at":5,"f":"kill","value":{"targets":"one","seed":1}},{"at":1,"f":"start"}]`,
		"negative time":      `[{"at":-1,"f":"kill","value":{"targets":"one","seed":1}}]`,
		"a value on a stop":  `[{"at":1,"f":"kill","value":{"targets":"one","seed":1}},{"at":2,"f":"start","value":{"nodes":["n1"]}}]`,
		"same layer":         `[{"at":1,"f":"kill","value":{"targets":"one","seed":1}},{"at":2,"f":"start-crash","value":{"targets":"one","seed":1}}]`,
		"bad layout":         `[{"at":1,"f":"start-partition","value":{"layout":"sideways","seed":1}}]`,
		"member on 3 nodes":  `[{"at":1,"f":"member-remove","value":{"node":"n1"}}]`,
	}
	fields := map[string]string{
		"unknown top field": `,"nodez":3}`,
		"zero nodes":        `,"nodes":0}`,
		"ten nodes":         `,"nodes":10}`,
		"bad workload":      `,"workload":"queue"}`,
		"bad target":        `,"target":"zk"}`,
		"no seed":           `,"seed":0}`,
		"trailing value":    `} {}`,
		"bad name":          `,"name":"a/b"}`,
		"bad option":        `,"fault_options":{"loss-probability":"2"}}`,
		"unknown option":    `,"fault_options":{"flood-rate":"2"}}`,
	}
	files := map[string]string{}
	for name, sched := range steps {
		files[name] = base + `,"schedule":` + sched + `}`
	}
	for name, tail := range fields {
		files[name] = base + tail
	}
	files["not json"] = "{not json"
	files["binary"] = "\x00\x01\x02"
	files["empty"] = ""
	i := 0
	for name, content := range files {
		i++
		p := filepath.Join(dir, fmt.Sprintf("case%d.json", i))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		_, err := replaySpec(p, map[string]string{"replay": p}, &testFlags{})
		var fe *harness.FlagError
		if assert.True(t, errors.As(err, &fe), "%s: %v", name, err) {
			assert.Equal(t, "replay", fe.Flag, "%s: %v", name, err)
			assert.NotContains(t, err.Error(), "\n", name)
		}
	}
	_, err = replaySpec(dir, map[string]string{"replay": dir}, &testFlags{})
	assert.ErrorContains(t, err, "is a directory")
}
