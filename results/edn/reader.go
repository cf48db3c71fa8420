package edn

import (
	"fmt"
	"github.com/faultline/faultline/harness"
	"io"
	"unicode/utf8"
)

// MaxDepth bounds how deeply collections may nest. A history needs four
// levels; the bound keeps hostile input from exhausting the stack.
const MaxDepth = 200

// Error is malformed input: what is wrong, and where it was found.
type Error struct {
	Pos Pos
	Msg string
}

// Error renders "line L, column C: what is wrong".
func (e *Error) Error() string {
	// A message may quote the value at fault, which in a hostile file can
	// be megabytes long: never echo more than a line's worth of it.
	return e.Pos.String() + ": " + harness.Shorten(e.Msg, 300)
}

// Reader reads EDN values one after another from a text. It is not safe
// for concurrent use.
type Reader struct {
	// spare is a map's item array its reader is done with, for the next
	// map to reuse (see recycle).
	spare []Value
	src   []byte
	off   int
	line  int
	col   int
}

// NewReader returns a reader of the EDN text src.
func NewReader(src []byte) *Reader {
	return &Reader{src: src, line: 1, col: 1}
}

// Pos is the position of the next character to read.
func (r *Reader) Pos() Pos { return Pos{Line: r.line, Col: r.col} }

// Read returns the next value. At the end of the input, with nothing but
// whitespace, commas and comments left, it returns io.EOF. Any other error
// is an *Error.
func (r *Reader) Read() (Value, error) {
	if err := r.skipSpace(0); err != nil {
		return Value{}, err
	}
	if r.atEnd() {
		return Value{}, io.EOF
	}
	return r.value(0)
}

func (r *Reader) errorf(p Pos, format string, args ...any) error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

func (r *Reader) atEnd() bool { return r.off >= len(r.src) }

// recycle hands back the item array of a map the caller has finished
// with, and kept nothing of but strings, for the next map to reuse: a
// history reader reads millions of op maps one at a time.
func (r *Reader) recycle(m Value) {
	if m.Kind == Map && cap(m.Items) >= 16 {
		clear(m.Items)
		r.spare = m.Items[:0]
	}
}

// badRune is what peek and next return for a byte that is not UTF-8.
const badRune = -2

// peek returns the next character without consuming it; badRune for
// malformed UTF-8, and -1 at the end.
func (r *Reader) peek() rune {
	if r.atEnd() {
		return -1
	}
	if b := r.src[r.off]; b < utf8.RuneSelf {
		return rune(b)
	}
	c, size := utf8.DecodeRune(r.src[r.off:])
	if c == utf8.RuneError && size == 1 {
		return badRune
	}
	return c
}

// next consumes one character and returns it, as peek does.
func (r *Reader) next() rune {
	c := r.peek()
	if c == -1 {
		return -1
	}
	size := 1
	if c >= utf8.RuneSelf {
		_, size = utf8.DecodeRune(r.src[r.off:])
	}
	r.off += size
	if c == '\n' {
		r.line, r.col = r.line+1, 1
	} else {
		r.col++
	}
	return c
}

func isSpace(c rune) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f' || c == '\v'
}

// isDelimiter reports whether c ends a token.
func isDelimiter(c rune) bool {
	switch c {
	case -1, '(', ')', '[', ']', '{', '}', '"', ';':
		return true
	}
	return isSpace(c)
}

// skipSpace consumes whitespace, commas, comments and #_ discarded values.
func (r *Reader) skipSpace(depth int) error {
	for !r.atEnd() {
		switch c := r.peek(); {
		case isSpace(c):
			r.next()
		case c == ';':
			for !r.atEnd() && r.peek() != '\n' {
				r.next()
			}
		case c == '#' && r.off+1 < len(r.src) && r.src[r.off+1] == '_':
			start := r.Pos()
			r.next()
			r.next()
			if err := r.skipSpace(depth); err != nil {
				return err
			}
			if r.atEnd() {
				return r.errorf(start, "#_ discards nothing: the input ends")
			}
			if _, err := r.value(depth + 1); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// value reads the value that starts at the next character, which is not
// whitespace.
func (r *Reader) value(depth int) (Value, error) {
	start := r.Pos()
	if depth > MaxDepth {
		return Value{}, r.errorf(start, "values nest more than %d deep", MaxDepth)
	}
	switch c := r.peek(); c {
	case '(':
		return r.collection(List, ')', depth)
	case '[':
		return r.collection(Vector, ']', depth)
	case '{':
		return r.collection(Map, '}', depth)
	case ')', ']', '}':
		r.next()
		return Value{}, r.errorf(start, "unexpected %q: nothing is open here for it to close", c)
	case '"':
		return r.str()
	case '\\':
		return r.char()
	case '#':
		return r.dispatch(depth)
	case badRune:
		return Value{}, r.errorf(start, "invalid UTF-8")
	}
	return r.atom()
}

// collection reads a list, vector, map or set, whose opening delimiter is
// next (two characters, #{, for a set).
func (r *Reader) collection(kind Kind, closer rune, depth int) (Value, error) {
	v := Value{Kind: kind, Pos: r.Pos()}
	if kind == Map {
		v.Items, r.spare = r.spare, nil
		if v.Items == nil {
			v.Items = make([]Value, 0, 16) // an op map has up to 8 entries
		}
	}
	if kind == Set {
		r.next()
	}
	r.next()
	for {
		if err := r.skipSpace(depth); err != nil {
			return Value{}, err
		}
		switch c := r.peek(); {
		case c == -1:
			return Value{}, r.errorf(v.Pos, "the %s opened here is never closed", kind)
		case c == closer:
			r.next()
			return v, checkCollection(v)
		case c == ')' || c == ']' || c == '}':
			return Value{}, r.errorf(r.Pos(), "unexpected %q: the %s opened at %s wants %q", c, kind, v.Pos, closer)
		}
		item, err := r.value(depth + 1)
		if err != nil {
			return Value{}, err
		}
		v.Items = append(v.Items, item)
	}
}

// checkCollection refuses a map with a key but no value, and duplicate
// map keys or set elements, which EDN forbids.
func checkCollection(v Value) error {
	if v.Kind != Map && v.Kind != Set {
		return nil
	}
	step := 1
	if v.Kind == Map {
		step = 2
		if len(v.Items)%2 == 1 {
			last := v.Items[len(v.Items)-1]
			return &Error{Pos: last.Pos, Msg: fmt.Sprintf("map key %s has no value", last)}
		}
	}
	n := len(v.Items) / step
	if n <= 16 {
		// Few keys, as in every op map: compare them pairwise, which
		// allocates nothing for keywords, strings and numbers.
		for i := step; i < len(v.Items); i += step {
			for j := 0; j < i; j += step {
				if sameValue(v.Items[i], v.Items[j]) {
					return duplicate(v, v.Items[i])
				}
			}
		}
		return nil
	}
	seen := make(map[string]bool, n)
	for i := 0; i < len(v.Items); i += step {
		k := v.Items[i].String()
		if seen[k] {
			return duplicate(v, v.Items[i])
		}
		seen[k] = true
	}
	return nil
}

func duplicate(coll, item Value) error {
	what := "map key"
	if coll.Kind == Set {
		what = "set element"
	}
	return &Error{Pos: item.Pos, Msg: fmt.Sprintf("duplicate %s %s", what, item)}
}

// sameValue reports whether a and b are the same EDN value, as their
// renderings would say.
func sameValue(a, b Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case Nil:
		return true
	case Bool:
		return a.Bool == b.Bool
	case Int:
		return a.Int == b.Int
	case String, Keyword, Symbol:
		return a.Str == b.Str
	case Char:
		return a.Char == b.Char
	}
	return a.String() == b.String()
}

// dispatch reads what follows a '#': a set, a symbolic value (##Inf) or a
// tagged value (#inst "...").
func (r *Reader) dispatch(depth int) (Value, error) {
	start := r.Pos()
	if r.off+1 >= len(r.src) {
		r.next()
		return Value{}, r.errorf(start, "'#' ends the input")
	}
	switch r.src[r.off+1] {
	case '{':
		return r.collection(Set, '}', depth)
	case '#':
		r.next()
		r.next()
		tok := r.token()
		switch tok {
		case "Inf":
			return Value{Kind: Float, Pos: start, Float: posInf}, nil
		case "-Inf":
			return Value{Kind: Float, Pos: start, Float: negInf}, nil
		case "NaN":
			return Value{Kind: Float, Pos: start, Float: nan}, nil
		}
		return Value{}, r.errorf(start, "unknown symbolic value ##%s (want ##Inf, ##-Inf or ##NaN)", tok)
	}
	r.next()
	if c := r.peek(); !isAlpha(c) {
		return Value{}, r.errorf(start, "'#' must start a set #{...}, a discard #_ or a tag such as #inst, not %q", c)
	}
	tag := r.token()
	if err := checkSymbol(tag); err != nil {
		return Value{}, r.errorf(start, "tag #%s: %v", tag, err)
	}
	if err := r.skipSpace(depth); err != nil {
		return Value{}, err
	}
	if r.atEnd() {
		return Value{}, r.errorf(start, "tag #%s has no value: the input ends", tag)
	}
	if c := r.peek(); c == ')' || c == ']' || c == '}' {
		return Value{}, r.errorf(r.Pos(), "tag #%s has no value before %q", tag, c)
	}
	inner, err := r.value(depth + 1)
	if err != nil {
		return Value{}, err
	}
	return Value{Kind: Tagged, Pos: start, Str: tag, Items: []Value{inner}}, nil
}

// token consumes characters up to the next delimiter.
func (r *Reader) token() string {
	from := r.off
	for !isDelimiter(r.peek()) {
		r.next()
	}
	if s, ok := common[string(r.src[from:r.off])]; ok {
		return s // no allocation for the words every op repeats
	}
	return string(r.src[from:r.off])
}

// common are the tokens of a Jepsen history that every op repeats.
var common = map[string]string{}

func init() {
	for _, w := range []string{"nil", "true", "false", ":index", ":time", ":type", ":process", ":f", ":value",
		":node", ":error", ":invoke", ":ok", ":fail", ":info", ":nemesis", ":read", ":write", ":cas"} {
		common[w] = w
	}
}

func isAlpha(c rune) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c rune) bool { return c >= '0' && c <= '9' }
