// Package edn reads and writes EDN, the data notation of Clojure and so of
// Jepsen, Knossos and Elle, for faultline's histories.
//
// The reader is small and strict: it takes the EDN that Jepsen and people
// write (maps with or without commas, vectors and lists, keywords, nil,
// strings, numbers, comments, sets, tags, #_ discards) and reports anything
// else as an *Error with the line and column where it went wrong. It never
// panics, whatever the input: a fuzz test holds it to that.
//
// A well-kept Go EDN library was the first choice. olympos.io/encoding/edn,
// the one in wide use, reports a malformed file as "Unexpected token"
// with no offset, line or column, and has not changed since 2020, so this
// package reads EDN itself.
package edn

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is the type of an EDN value.
type Kind int

// The kinds of EDN values.
const (
	Nil Kind = iota
	Bool
	Int
	BigInt
	Float
	String
	Char
	Keyword
	Symbol
	List
	Vector
	Map
	Set
	Tagged
)

var kindNames = [...]string{"nil", "boolean", "integer", "big integer", "float", "string", "character", "keyword", "symbol", "list", "vector", "map", "set", "tagged value"}

// String names the kind for error messages: "keyword", "vector", ...
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "kind " + strconv.Itoa(int(k))
	}
	return kindNames[k]
}

// Pos is a place in the input: a 1-based line, and a 1-based column
// counted in characters.
type Pos struct {
	Line, Col int
}

// String renders the position as "line L, column C".
func (p Pos) String() string {
	return "line " + strconv.Itoa(p.Line) + ", column " + strconv.Itoa(p.Col)
}

// Value is one EDN value, with the position where it starts.
type Value struct {
	Kind Kind
	Pos  Pos
	// Bool holds a Bool.
	Bool bool
	// Int holds an Int; Big holds a BigInt (an N suffix, or too large for
	// int64).
	Int int64
	Big *big.Int
	// Float holds a Float.
	Float float64
	// Str holds a String's text, a Keyword's or Symbol's name (without the
	// colon), or a Tagged value's tag.
	Str string
	// Char holds a Char.
	Char rune
	// Items holds the elements of a List, Vector or Set; the keys and
	// values of a Map, alternating; and the one value of a Tagged.
	Items []Value
}

// IsSeq reports whether v is a list or a vector, which Jepsen treats alike.
func (v Value) IsSeq() bool { return v.Kind == List || v.Kind == Vector }

// IsKeyword reports whether v is the keyword :name.
func (v Value) IsKeyword(name string) bool { return v.Kind == Keyword && v.Str == name }

// Get returns the value of map v under the keyword :name.
func (v Value) Get(name string) (Value, bool) {
	if v.Kind != Map {
		return Value{}, false
	}
	for i := 0; i+1 < len(v.Items); i += 2 {
		if v.Items[i].IsKeyword(name) {
			return v.Items[i+1], true
		}
	}
	return Value{}, false
}

// String renders v as EDN text. Equal values render alike, which is how
// duplicate map keys and set elements are found.
func (v Value) String() string {
	var b strings.Builder
	v.write(&b)
	return b.String()
}

func (v Value) write(b *strings.Builder) {
	switch v.Kind {
	case Nil:
		b.WriteString("nil")
	case Bool:
		b.WriteString(strconv.FormatBool(v.Bool))
	case Int:
		b.WriteString(strconv.FormatInt(v.Int, 10))
	case BigInt:
		if v.Big != nil {
			b.WriteString(v.Big.String())
		}
		b.WriteByte('N')
	case Float:
		b.WriteString(FormatFloat(v.Float))
	case String:
		b.WriteString(Quote(v.Str))
	case Char:
		b.WriteString(formatChar(v.Char))
	case Keyword:
		b.WriteString(":" + v.Str)
	case Symbol:
		b.WriteString(v.Str)
	case Tagged:
		b.WriteString("#" + v.Str + " ")
		if len(v.Items) == 1 {
			v.Items[0].write(b)
		}
	case List, Vector, Map, Set:
		brackets := delimiters[v.Kind]
		b.WriteString(brackets[0])
		for i, item := range v.Items {
			if i > 0 {
				b.WriteByte(' ')
			}
			item.write(b)
		}
		b.WriteString(brackets[1])
	}
}

// delimiters open and close each kind of collection.
var delimiters = map[Kind][2]string{List: {"(", ")"}, Vector: {"[", "]"}, Map: {"{", "}"}, Set: {"#{", "}"}}

// formatChar renders a character literal: \a, \newline, or \uXXXX for
// what cannot be written as itself.
func formatChar(c rune) string {
	for name, named := range namedChars {
		if c == named {
			return `\` + name
		}
	}
	if c < 0x20 || c == 0x7f || c >= 0xd800 && c <= 0xdfff || c <= 0xffff && !unicode.IsPrint(c) {
		return `\u` + hex4(c)
	}
	if !utf8.ValidRune(c) {
		return `\ufffd`
	}
	return `\` + string(c)
}

// hex4 renders a character of the basic plane as four hex digits.
func hex4(c rune) string {
	return strconv.FormatInt(int64(c)&0xffff|0x10000, 16)[1:]
}

// FormatFloat renders f as an EDN float: always with a point or an
// exponent, and ##Inf, ##-Inf or ##NaN where it is not finite.
func FormatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "##Inf"
	case math.IsInf(f, -1):
		return "##-Inf"
	case math.IsNaN(f):
		return "##NaN"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// Quote renders s as an EDN string literal. Control characters other than
// tab, newline and return are written as \uXXXX, which Clojure's reader
// and this one both accept.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u` + hex4(r))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
