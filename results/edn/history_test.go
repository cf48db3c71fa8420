package edn

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// sample is a history with every shape of op faultline records.
func sample() harness.History {
	ms := time.Millisecond
	h := harness.History{
		{Process: harness.NemesisProcess, Type: harness.Invoke, F: "start-partition", Value: raw(`{"layout":"halves","seed":7}`)},
		{Process: harness.NemesisProcess, Type: harness.OK, F: "start-partition", Time: 2 * ms, Value: raw(`{"layout":"halves","groups":[["n1"],["n2","n3"]],"grudge":{"n1":["n2","n3"]}}`)},
		{Process: 0, Type: harness.Invoke, F: "read", Key: "r1", Time: 3 * ms, Node: "n1"},
		{Process: 1, Type: harness.Invoke, F: "write", Key: "r1", Value: raw("3"), Time: 4 * ms, Node: "n2"},
		{Process: 0, Type: harness.OK, F: "read", Key: "r1", Value: raw("null"), Time: 5 * ms, Node: "n1"},
		{Process: 1, Type: harness.Info, F: "write", Key: "r1", Value: raw("3"), Time: 6 * ms, Node: "n2", Error: "context deadline exceeded: \"quoted\"\n"},
		{Process: 2, Type: harness.Invoke, F: "cas", Key: "r 2/x", Value: raw("[1,2]"), Time: 7 * ms},
		{Process: 2, Type: harness.Fail, F: "cas", Key: "r 2/x", Value: raw("[1,2]"), Time: 8 * ms, Error: "compare failed"},
		{Process: 3, Type: harness.Invoke, F: "write", Key: "17", Value: raw("-4"), Time: 9 * ms},
		{Process: 3, Type: harness.OK, F: "write", Key: "17", Value: raw("-4"), Time: 10 * ms},
		{Process: harness.NemesisProcess, Type: harness.Invoke, F: "stop-partition", Time: 11 * ms},
		{Process: harness.NemesisProcess, Type: harness.OK, F: "stop-partition", Time: 12 * ms},
		{Process: harness.NemesisProcess, Type: harness.Invoke, F: "kill", Time: 13 * ms, Value: raw(`{"targets":"one","seed":1}`)},
		{Process: harness.NemesisProcess, Type: harness.Info, F: "kill", Time: 14 * ms, Value: raw(`{"nodes":["n3"]}`), Error: "exec: boom"},
		{Process: 4, Type: harness.Invoke, F: "read", Key: "r1", Time: 15 * ms},
	}
	for i := range h {
		h[i].Index = i
	}
	return h
}

// TestWriteThenReadIsExact: the EDN faultline writes reads back as the
// very same history, op for op, value for value.
func TestWriteThenReadIsExact(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteHistory(&buf, sample()))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, len(sample()))
	assert.Equal(t, `{:index 1, :time 2000000, :type :ok, :process :nemesis, :f :start-partition, :value {:layout "halves", :groups [["n1"] ["n2" "n3"]], :grudge {:n1 ["n2" "n3"]}}}`, lines[1])
	assert.Equal(t, `{:index 3, :time 4000000, :type :invoke, :process 1, :f :write, :value [:r1 3], :node "n2"}`, lines[3])
	assert.Equal(t, `{:index 6, :time 7000000, :type :invoke, :process 2, :f :cas, :value ["r 2/x" [1 2]]}`, lines[6])
	assert.Equal(t, `{:index 8, :time 9000000, :type :invoke, :process 3, :f :write, :value [17 -4]}`, lines[8])

	back, err := ReadHistory(buf.Bytes(), CASRegister)
	require.NoError(t, err)
	assert.Equal(t, sample(), back)
}

// TestReadHistoryShapes: the same ops as top-level maps, in a vector, in a
// list, with or without commas, and as tagged records read alike.
func TestReadHistoryShapes(t *testing.T) {
	ops := []string{
		`{:index 0, :time 5, :type :invoke, :process 0, :f :write, :value 1}`,
		`{:index 1 :time 9 :type :ok :process 0 :f :write :value 1}`,
		`#jepsen.history.Op{:index 2, :time 12, :type :invoke, :process 1, :f :read, :value nil}`,
		`{:index 3, :time 14, :type :ok, :process 1, :f :read, :value 1} ; a comment`,
	}
	want := harness.History{
		{Index: 0, Time: 5, Type: harness.Invoke, Process: 0, F: "write", Value: raw("1")},
		{Index: 1, Time: 9, Type: harness.OK, Process: 0, F: "write", Value: raw("1")},
		{Index: 2, Time: 12, Type: harness.Invoke, Process: 1, F: "read"},
		{Index: 3, Time: 14, Type: harness.OK, Process: 1, F: "read", Value: raw("1")},
	}
	for name, src := range map[string]string{
		"lines":  strings.Join(ops, "\n"),
		"vector": "[" + strings.Join(ops, "\n ") + "\n]",
		"list":   "; header\n(" + strings.Join(ops, ",\n ") + "\n)\n; trailer",
	} {
		h, err := ReadHistory([]byte(src), CASRegister)
		require.NoError(t, err, name)
		assert.Equal(t, want, h, name)
	}
}

// TestReadHistoryWithoutTimeOrIndex: ops without :time are timed by
// position, and ops with indexes that do not increase are renumbered.
func TestReadHistoryWithoutTimeOrIndex(t *testing.T) {
	h, err := ReadHistory([]byte(`[{:process 0 :type :invoke :f :read :index 7 :time 100}
		{:process 0 :type :ok :f :read :value 2 :index 3}]`), nil)
	require.NoError(t, err)
	require.Len(t, h, 2)
	assert.Equal(t, []int{0, 1}, []int{h[0].Index, h[1].Index})
	assert.Equal(t, []time.Duration{0, 1}, []time.Duration{h[0].Time, h[1].Time})
	h, err = ReadHistory(nil, nil)
	require.NoError(t, err)
	assert.Empty(t, h, "an empty file is an empty history")
}

// TestReadHistoryErrors: an op that is not what the cas-register model
// reads, or a history no run could have made, is an *Error at the op.
func TestReadHistoryErrors(t *testing.T) {
	inv := func(rest string) string { return "{:process 0 :type :invoke " + rest + "}" }
	for _, c := range []struct {
		src  string
		pos  Pos
		want string
	}{
		{`[1]`, Pos{1, 2}, "an op must be a map, got a integer"},
		{`{:process 0 :f :read}`, Pos{1, 1}, "op has no :type"},
		{`{:process 0 :type :done :f :read}`, Pos{1, 19}, ":type must be :invoke, :ok, :fail or :info, got :done"},
		{`{:process 0 :type :invoke}`, Pos{1, 1}, "op has no :f"},
		{`{:type :invoke :f :read}`, Pos{1, 1}, "op has no :process"},
		{`{:process "p" :type :invoke :f :read}`, Pos{1, 11}, ":process must be a non-negative number, :nemesis or :monitor"},
		{`{:process 0 :type :invoke :f :read :time -1}`, Pos{1, 42}, ":time must be a non-negative"},
		{"[" + inv(":f :read :time 5") + "\n " + inv(":f :read :time 6") + "]", Pos{2, 2}, "invokes while its previous op is still in flight"},
		{"{:process 1 :type :ok :f :read :value 1}", Pos{1, 1}, "process 1 completes an op it never invoked"},
		{inv(":f :read :time 5") + "\n{:process 0 :type :ok :f :read :value 1 :time 4}", Pos{2, 1}, ":time 4 goes back"},
		{inv(`:f :write :value "x"`), Pos{1, 1}, `:write wants an integer, got "x"`},
		{inv(`:f :write`), Pos{1, 1}, `:write wants an integer, got no value`},
		{inv(`:f :cas :value [nil 3]`), Pos{1, 1}, `:cas wants [old new] integers, got [nil 3]`},
		{inv(`:f :cas :value [1 2 3]`), Pos{1, 1}, `:cas wants [old new] integers`},
		{inv(`:f :write :value 99999999999999999999`), Pos{1, 1}, `:write wants an integer, got 99999999999999999999`},
		{inv(`:f :increment :value 1`), Pos{1, 1}, ":f :increment is not an op of the cas-register model"},
		{inv(":f :read") + "\n{:process 0 :type :ok :f :read :value :x}", Pos{2, 1}, `an ok :read returns an integer or nil, got "x"`},
		{inv(`:f :write :value [[1] 2]`), Pos{1, 45}, "an independent key must be a keyword, string or integer, got [1]"},
		{"[" + inv(":f :read") + "] {:extra 1}", Pos{1, 39}, "unexpected value after the history's closing ]"},
		{"(\n" + inv(":f :read"), Pos{1, 1}, "the history opened here is never closed"},
		{inv(":f :read :value ##Inf"), Pos{1, 43}, "##Inf has no JSON form"},
	} {
		_, err := ReadHistory([]byte(c.src), CASRegister)
		var e *Error
		require.ErrorAs(t, err, &e, "%s must be refused", c.src)
		assert.Equal(t, c.pos, e.Pos, "%s: %v", c.src, err)
		assert.Contains(t, e.Msg, c.want, c.src)
	}
}

// TestReadHistoryFileNamesTheFile: the error of a file says which file.
func TestReadHistoryFileNamesTheFile(t *testing.T) {
	_, err := ReadHistoryFile("testdata/missing.edn", nil)
	assert.ErrorContains(t, err, "missing.edn")
	h, err := ReadHistoryFile("testdata/register-invalid.edn", CASRegister)
	require.NoError(t, err)
	assert.Len(t, h, 10)
}

// TestReadsJepsensOwnHistories: a Jepsen store's nemesis records :info
// twice (invocation and completion), :time may go back from one process's
// op to another's, and ops carry :error and keys faultline does not use.
func TestReadsJepsensOwnHistories(t *testing.T) {
	src := `{:type :invoke, :f :write, :value 1, :process 0, :time 100, :index 0}
{:type :info, :f :start-partition, :value nil, :process :nemesis, :time 150, :index 1}
{:type :ok, :f :write, :value 1, :process 0, :time 140, :index 2, :node "n1"}
{:type :info, :f :start-partition, :value [:isolated {"n1" #{"n2" "n3"}}], :process :nemesis, :time 160, :index 3, :clock-skew 3}
{:type :invoke, :f :read, :value nil, :process 1, :time 170, :index 4}
{:type :fail, :f :read, :value nil, :process 1, :time 180, :index 5, :error [:timeout "no leader"]}
`
	h, err := ReadHistory([]byte(src), CASRegister)
	require.NoError(t, err)
	require.NoError(t, h.Validate())
	assert.Equal(t, harness.Invoke, h[1].Type, "a nemesis :info with nothing in flight is its invocation")
	assert.Equal(t, harness.Info, h[3].Type)
	assert.Equal(t, time.Duration(150), h[2].Time, "a time that goes back across processes is raised to the one before")
	assert.Contains(t, h[5].Error, "timeout")
	pairs := h.Nemesis().Pairs()
	require.Len(t, pairs, 1)
	require.NotNil(t, pairs[0].Completion)
}
