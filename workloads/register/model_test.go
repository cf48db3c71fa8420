package register

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

var (
	absent = state{}
	holds  = func(v int) state { return state{value: v, present: true} }
	saw    = func(v int) output { return output{known: true, value: v, present: true} }
	sawNil = output{known: true}
	ok     = output{known: true}
	maybe  = output{}
)

// TestStep pins the cas-register's sequential specification, including
// how it treats ops of unknown outcome.
func TestStep(t *testing.T) {
	for _, tc := range []struct {
		name  string
		from  state
		in    input
		out   output
		legal bool
		to    state
	}{
		{"read absent", absent, input{f: Read}, sawNil, true, absent},
		{"read absent as a value", absent, input{f: Read}, saw(0), false, absent},
		{"read value", holds(3), input{f: Read}, saw(3), true, holds(3)},
		{"read other value", holds(3), input{f: Read}, saw(2), false, holds(3)},
		{"read value as absent", holds(0), input{f: Read}, sawNil, false, holds(0)},
		{"write", absent, input{f: Write, value: 2}, ok, true, holds(2)},
		{"overwrite", holds(1), input{f: Write, value: 2}, ok, true, holds(2)},
		{"unknown write", holds(1), input{f: Write, value: 2}, maybe, true, holds(2)},
		{"cas match", holds(1), input{f: CAS, old: 1, new: 4}, ok, true, holds(4)},
		{"cas mismatch", holds(2), input{f: CAS, old: 1, new: 4}, ok, false, holds(2)},
		{"cas on absent", absent, input{f: CAS, old: 0, new: 4}, ok, false, absent},
		{"unknown cas match", holds(1), input{f: CAS, old: 1, new: 4}, maybe, true, holds(4)},
		{"unknown cas mismatch changes nothing", holds(2), input{f: CAS, old: 1, new: 4}, maybe, true, holds(2)},
		{"unknown cas on absent", absent, input{f: CAS, old: 0, new: 4}, maybe, true, absent},
		{"unknown f", holds(1), input{f: "append"}, ok, false, holds(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			legal, to := step(tc.from, tc.in, tc.out)
			require.Equal(t, tc.legal, legal)
			require.Equal(t, tc.to, to)
		})
	}
}

func TestHashState(t *testing.T) {
	seen := map[uint64]state{}
	for _, s := range []state{absent, holds(0), holds(1), holds(4), holds(-1)} {
		h := hashState(s)
		prev, dup := seen[h]
		require.False(t, dup, "%v and %v hash alike", prev, s)
		seen[h] = s
	}
}

func TestDecode(t *testing.T) {
	op := func(f, ty, value string) *harness.Op {
		o := &harness.Op{Index: 1, F: f, Type: harness.Type(ty), Key: "r0"}
		if value != "" {
			o.Value = json.RawMessage(value)
		}
		return o
	}
	for _, tc := range []struct {
		name       string
		invoke     *harness.Op
		completion *harness.Op
		in         input
		out        output
		keep       bool
		err        string
	}{
		{"ok read of a value", op(Read, "invoke", ""), op(Read, "ok", "3"), input{f: Read}, saw(3), true, ""},
		{"ok read of absent", op(Read, "invoke", ""), op(Read, "ok", "null"), input{f: Read}, sawNil, true, ""},
		{"info read is dropped", op(Read, "invoke", ""), op(Read, "info", ""), input{}, output{}, false, ""},
		{"unfinished read is dropped", op(Read, "invoke", ""), nil, input{}, output{}, false, ""},
		{"ok write", op(Write, "invoke", "2"), op(Write, "ok", "2"), input{f: Write, value: 2}, ok, true, ""},
		{"info write", op(Write, "invoke", "2"), op(Write, "info", "2"), input{f: Write, value: 2}, maybe, true, ""},
		{"unfinished write", op(Write, "invoke", "2"), nil, input{f: Write, value: 2}, maybe, true, ""},
		{"ok cas", op(CAS, "invoke", "[1,2]"), op(CAS, "ok", "[1,2]"), input{f: CAS, old: 1, new: 2}, ok, true, ""},
		{"info cas", op(CAS, "invoke", "[1,2]"), op(CAS, "info", ""), input{f: CAS, old: 1, new: 2}, maybe, true, ""},
		{"read without value", op(Read, "invoke", ""), op(Read, "ok", ""), input{}, output{}, false, "has no value"},
		{"read of a string", op(Read, "invoke", ""), op(Read, "ok", `"x"`), input{}, output{}, false, "decode value"},
		{"write without value", op(Write, "invoke", ""), op(Write, "ok", ""), input{}, output{}, false, "has no value"},
		{"cas of one value", op(CAS, "invoke", "[1]"), op(CAS, "ok", "[1]"), input{}, output{}, false, "must be [old, new]"},
		{"cas of three values", op(CAS, "invoke", "[1,2,3]"), op(CAS, "ok", ""), input{}, output{}, false, "must be [old, new]"},
		{"cas of a string", op(CAS, "invoke", `"1,2"`), op(CAS, "ok", ""), input{}, output{}, false, "decode value"},
		{"unknown f", op("append", "invoke", "1"), op("append", "ok", "1"), input{}, output{}, false, `unknown register f "append"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, out, keep, err := decode(*tc.invoke, tc.completion)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.keep, keep)
			if keep {
				require.Equal(t, tc.in, in)
				require.Equal(t, tc.out, out)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	require.Equal(t, "read -> 3", describeOperation(input{f: Read}, saw(3)))
	require.Equal(t, "read -> nil", describeOperation(input{f: Read}, sawNil))
	require.Equal(t, "write 2", describeOperation(input{f: Write, value: 2}, ok))
	require.Equal(t, "write 2 ?", describeOperation(input{f: Write, value: 2}, maybe))
	require.Equal(t, "cas 1 -> 4 ?", describeOperation(input{f: CAS, old: 1, new: 4}, maybe))
	require.Equal(t, "nil", describeState(absent))
	require.Equal(t, "0", describeState(holds(0)))
}
