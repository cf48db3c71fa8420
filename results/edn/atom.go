package edn

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

var (
	posInf = math.Inf(1)
	negInf = math.Inf(-1)
	nan    = math.NaN()
)

// str reads a string literal; the next character is its opening quote.
func (r *Reader) str() (Value, error) {
	start := r.Pos()
	r.next()
	var b strings.Builder
	for {
		at := r.Pos()
		switch c := r.next(); c {
		case -1:
			return Value{}, r.errorf(start, "the string opened here is never closed")
		case badRune:
			return Value{}, r.errorf(at, "invalid UTF-8 in a string")
		case '"':
			return Value{Kind: String, Pos: start, Str: b.String()}, nil
		case '\\':
			e, err := r.escape(at)
			if err != nil {
				return Value{}, err
			}
			b.WriteRune(e)
		default:
			b.WriteRune(c)
		}
	}
}

// escape reads the rest of a string escape whose backslash was at at.
func (r *Reader) escape(at Pos) (rune, error) {
	switch c := r.next(); c {
	case 't':
		return '\t', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case '"', '\\':
		return c, nil
	case 'u':
		if r.off+4 > len(r.src) {
			return 0, r.errorf(at, `\u wants four hex digits`)
		}
		n, err := strconv.ParseUint(string(r.src[r.off:r.off+4]), 16, 32)
		if err != nil {
			return 0, r.errorf(at, `\u wants four hex digits, got %q`, r.src[r.off:r.off+4])
		}
		for range 4 {
			r.next()
		}
		return rune(n), nil
	case -1:
		return 0, r.errorf(at, "the input ends inside a string escape")
	default:
		return 0, r.errorf(at, `unknown string escape \%c (want \t \n \r \b \f \" \\ or \uXXXX)`, c)
	}
}

// namedChars are the characters EDN names.
var namedChars = map[string]rune{"newline": '\n', "space": ' ', "tab": '\t', "return": '\r', "formfeed": '\f', "backspace": '\b'}

// char reads a character literal: \c, \newline, \uXXXX.
func (r *Reader) char() (Value, error) {
	start := r.Pos()
	r.next()
	first := r.next()
	if first == -1 || isSpace(first) && first != ',' {
		return Value{}, r.errorf(start, `a backslash must be followed by a character`)
	}
	if first == badRune {
		return Value{}, r.errorf(start, "invalid UTF-8")
	}
	name := string(first)
	if isAlpha(first) {
		name += r.token()
	}
	if utf8.RuneCountInString(name) == 1 {
		return Value{Kind: Char, Pos: start, Char: first}, nil
	}
	if c, ok := namedChars[name]; ok {
		return Value{Kind: Char, Pos: start, Char: c}, nil
	}
	if hex, ok := strings.CutPrefix(name, "u"); ok && len(hex) == 4 {
		if n, err := strconv.ParseUint(hex, 16, 32); err == nil {
			return Value{Kind: Char, Pos: start, Char: rune(n)}, nil
		}
	}
	return Value{}, r.errorf(start, `unknown character \%s`, name)
}

// atom reads a number, keyword, symbol, nil, true or false.
func (r *Reader) atom() (Value, error) {
	start := r.Pos()
	tok := r.token()
	if tok == "" {
		c := r.next()
		return Value{}, r.errorf(start, "unexpected %q", c)
	}
	switch tok {
	case "nil":
		return Value{Kind: Nil, Pos: start}, nil
	case "true", "false":
		return Value{Kind: Bool, Pos: start, Bool: tok == "true"}, nil
	}
	first, _ := utf8.DecodeRuneInString(tok)
	if isDigit(first) || len(tok) > 1 && (first == '+' || first == '-') && isDigit(rune(tok[1])) {
		v, err := number(tok)
		if err != nil {
			return Value{}, r.errorf(start, "%v", err)
		}
		v.Pos = start
		return v, nil
	}
	if name, ok := strings.CutPrefix(tok, ":"); ok {
		if err := checkSymbol(name); err != nil {
			return Value{}, r.errorf(start, "keyword %s: %v", tok, err)
		}
		return Value{Kind: Keyword, Pos: start, Str: name}, nil
	}
	if err := checkSymbol(tok); err != nil {
		return Value{}, r.errorf(start, "symbol %q: %v", tok, err)
	}
	return Value{Kind: Symbol, Pos: start, Str: tok}, nil
}

// number parses an integer (with an optional N) or a float (with an
// optional M). Leading zeros are refused: Clojure would read 010 as octal.
func number(tok string) (Value, error) {
	body := strings.TrimLeft(tok, "+-")
	if len(body) > 1 && body[0] == '0' && isDigit(rune(body[1])) {
		return Value{}, errors.New("number " + tok + " has a leading zero")
	}
	if digits, ok := strings.CutSuffix(tok, "N"); ok || !strings.ContainsAny(tok, ".eEM") {
		if n, err := strconv.ParseInt(digits, 10, 64); err == nil && !ok {
			return Value{Kind: Int, Int: n}, nil
		}
		b, good := new(big.Int).SetString(strings.TrimPrefix(digits, "+"), 10)
		if !good {
			return Value{}, errors.New("malformed integer " + tok)
		}
		return Value{Kind: BigInt, Big: b}, nil
	}
	digits := strings.TrimSuffix(tok, "M")
	for _, c := range digits {
		if !isDigit(c) && !strings.ContainsRune("+-.eE", c) {
			return Value{}, errors.New("malformed number " + tok)
		}
	}
	f, err := strconv.ParseFloat(digits, 64)
	if err != nil {
		return Value{}, errors.New("malformed number " + tok)
	}
	return Value{Kind: Float, Float: f}, nil
}

// checkSymbol says what is wrong with a symbol or keyword name, if
// anything: EDN allows letters, digits and .*+!-_?$%&=<>/:#' in them, not
// a digit first, and one / at most, between a namespace and a name.
func checkSymbol(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if name == "/" {
		return nil
	}
	for i, c := range name {
		switch {
		case isAlpha(c), isDigit(c) && i > 0, c > 0x7f && c != utf8.RuneError:
		case strings.ContainsRune(".*+!-_?$%&=<>/'", c):
		case (c == ':' || c == '#') && i > 0:
		default:
			return errors.New("character " + strconv.QuoteRune(c) + " is not allowed here")
		}
	}
	if strings.Count(name, "/") > 1 || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") {
		return errors.New("a / may only separate a namespace from a name")
	}
	if len(name) > 1 && strings.ContainsRune("+-.", rune(name[0])) && isDigit(rune(name[1])) {
		return errors.New("a name starting with " + name[:1] + " may not have a digit second")
	}
	return nil
}
