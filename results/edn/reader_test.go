package edn

import (
	"errors"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readAll(t *testing.T, src string) []Value {
	t.Helper()
	r := NewReader([]byte(src))
	var out []Value
	for {
		v, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err, src)
		out = append(out, v)
	}
}

// TestReadValues: every kind of value EDN has, rendered back as EDN.
func TestReadValues(t *testing.T) {
	for src, want := range map[string]string{
		`nil true false`:                              "nil true false",
		`42 -7 +3 0 9223372036854775808 12N`:          "42 -7 3 0 9223372036854775808N 12N",
		`1.5 -2.0 1e3 2.5M ##Inf ##-Inf ##NaN`:        "1.5 -2.0 1000.0 2.5 ##Inf ##-Inf ##NaN",
		`"a\"b\\c\n\t\u0041" "multi` + "\n" + `line"`: `"a\"b\\c\n\tA" "multi\nline"`,
		`\a \newline \space \u0042 \( \,`:             `\a \newline \space \B \( \,`,
		`:f :jepsen.history/op :a-b? foo/bar +`:       ":f :jepsen.history/op :a-b? foo/bar +",
		`[1 2] (3 4) #{5 6} {:a 1, :b [2]}`:           "[1 2] (3 4) #{5 6} {:a 1 :b [2]}",
		`{:a 1 :b 2}`:                                 "{:a 1 :b 2}",
		`#inst "2020-01-01T00:00:00Z" #my/tag [1]`:    `#inst "2020-01-01T00:00:00Z" #my/tag [1]`,
		`[1 #_2 3 #_ #_ 4 5 6] #_{:gone 1}`:           "[1 3 6]",
		"; comment\n[1 ; inside\n 2],,,":              "[1 2]",
		`[[[]]] () {} #{}`:                            "[[[]]] () {} #{}",
	} {
		var got []string
		for _, v := range readAll(t, src) {
			got = append(got, v.String())
		}
		assert.Equal(t, want, join(got), src)
	}
}

func join(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += " "
		}
		out += p
	}
	return out
}

// TestReadPositions: every value knows the line and column it starts at,
// counted in characters, not bytes.
func TestReadPositions(t *testing.T) {
	vs := readAll(t, "{:type :ok,\n  :value \"héé\" :f :read}")
	require.Len(t, vs, 1)
	m := vs[0]
	assert.Equal(t, Pos{1, 1}, m.Pos)
	value, ok := m.Get("value")
	require.True(t, ok)
	assert.Equal(t, Pos{2, 10}, value.Pos)
	f, _ := m.Get("f")
	assert.Equal(t, Pos{2, 19}, f.Pos, "é is one column")
	_, ok = m.Get("missing")
	assert.False(t, ok)
	assert.True(t, math.IsNaN(readAll(t, "##NaN")[0].Float))
}

// TestReadErrors: malformed input is an *Error at the right line and
// column, saying what is wrong.
func TestReadErrors(t *testing.T) {
	for _, c := range []struct {
		src  string
		pos  Pos
		want string
	}{
		{"[1 2", Pos{1, 1}, "vector opened here is never closed"},
		{"{:a 1\n :b 2", Pos{1, 1}, "map opened here is never closed"},
		{"[1 2)", Pos{1, 5}, `unexpected ')': the vector opened at line 1, column 1 wants ']'`},
		{"\n\n  ]", Pos{3, 3}, `unexpected ']'`},
		{`{:a 1 :b}`, Pos{1, 7}, "map key :b has no value"},
		{`{:a 1 :a 2}`, Pos{1, 7}, "duplicate map key :a"},
		{`#{1 1}`, Pos{1, 5}, "duplicate set element 1"},
		{`"abc`, Pos{1, 1}, "string opened here is never closed"},
		{`"a\qb"`, Pos{1, 3}, `unknown string escape \q`},
		{`"\u12"`, Pos{1, 2}, `\u wants four hex digits`},
		{`\`, Pos{1, 1}, "backslash must be followed by a character"},
		{`\bogus`, Pos{1, 1}, `unknown character \bogus`},
		{`007`, Pos{1, 1}, "leading zero"},
		{`1.2.3`, Pos{1, 1}, "malformed number 1.2.3"},
		{`0x10`, Pos{1, 1}, "malformed integer 0x10"},
		{`12abc`, Pos{1, 1}, "malformed integer 12abc"},
		{`::a`, Pos{1, 1}, "keyword ::a"},
		{`:`, Pos{1, 1}, "empty name"},
		{`a/b/c`, Pos{1, 1}, "a / may only separate"},
		{`.5`, Pos{1, 1}, "may not have a digit second"},
		{`a@b`, Pos{1, 1}, `character '@' is not allowed`},
		{`#`, Pos{1, 1}, "'#' ends the input"},
		{`#{1} #1`, Pos{1, 6}, "'#' must start a set"},
		{`##Foo`, Pos{1, 1}, "unknown symbolic value ##Foo"},
		{`#tag`, Pos{1, 1}, "tag #tag has no value"},
		{`[#tag]`, Pos{1, 6}, "tag #tag has no value before ']'"},
		{`[1 #_]`, Pos{1, 6}, `unexpected ']'`},
		{`#_`, Pos{1, 1}, "#_ discards nothing"},
		{"[\xff]", Pos{1, 2}, "invalid UTF-8"},
		{"\"\xff\"", Pos{1, 2}, "invalid UTF-8 in a string"},
	} {
		r := NewReader([]byte(c.src))
		var err error
		for err == nil {
			_, err = r.Read()
		}
		var e *Error
		require.ErrorAs(t, err, &e, "%q must be malformed, got %v", c.src, err)
		assert.Equal(t, c.pos, e.Pos, "%q: %v", c.src, err)
		assert.Contains(t, e.Error(), c.want, c.src)
	}
}

// TestReadDepthIsBounded: nesting past MaxDepth is an error, not a stack
// overflow.
func TestReadDepthIsBounded(t *testing.T) {
	deep := make([]byte, 0, 2*MaxDepth+10)
	for range MaxDepth + 5 {
		deep = append(deep, '[')
	}
	_, err := NewReader(deep).Read()
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Contains(t, e.Msg, "nest more than")
	assert.Equal(t, 1, e.Pos.Line)
	assert.Equal(t, MaxDepth+2, e.Pos.Col)
}
