package edn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ToJSON renders an EDN value as JSON, the form op values take in
// faultline. nil is null. Keywords, symbols and characters become strings
// (a keyword without its colon). Lists, vectors and sets become arrays,
// and a tagged value becomes its value. A map becomes an object keyed by
// the names of its keyword and string keys, or by the EDN text of any
// other key. Big integers stay exact. A non-finite float has no JSON form
// and is an error, as are two map keys that become the same JSON key.
func ToJSON(v Value) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v Value) error {
	switch v.Kind {
	case Nil:
		b.WriteString("null")
	case Bool:
		b.WriteString(strconv.FormatBool(v.Bool))
	case Int:
		b.WriteString(strconv.FormatInt(v.Int, 10))
	case BigInt:
		b.WriteString(v.Big.String())
	case Float:
		if math.IsInf(v.Float, 0) || math.IsNaN(v.Float) {
			return &Error{Pos: v.Pos, Msg: fmt.Sprintf("%s has no JSON form", FormatFloat(v.Float))}
		}
		b.WriteString(strconv.FormatFloat(v.Float, 'g', -1, 64))
	case String, Keyword, Symbol:
		writeJSONString(b, v.Str)
	case Char:
		writeJSONString(b, string(v.Char))
	case Tagged:
		if len(v.Items) != 1 {
			return &Error{Pos: v.Pos, Msg: "tag #" + v.Str + " has no value"}
		}
		return writeJSON(b, v.Items[0])
	case List, Vector, Set:
		b.WriteByte('[')
		for i, item := range v.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, item); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case Map:
		b.WriteByte('{')
		seen := map[string]bool{}
		for i := 0; i+1 < len(v.Items); i += 2 {
			k := v.Items[i]
			name := k.String()
			if k.Kind == Keyword || k.Kind == String {
				name = k.Str
			}
			if seen[name] {
				return &Error{Pos: k.Pos, Msg: fmt.Sprintf("map key %s becomes the JSON key %q a second time", k, name)}
			}
			seen[name] = true
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, name)
			b.WriteByte(':')
			if err := writeJSON(b, v.Items[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return &Error{Pos: v.Pos, Msg: fmt.Sprintf("a %s has no JSON form", v.Kind)}
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always encodes
	b.Write(enc)
}

// FromJSON renders a JSON value as EDN text, as Jepsen prints it: null is
// nil, arrays are vectors, objects are maps with ", " between entries and
// keyword keys where the key is a valid keyword name. Key order is kept.
func FromJSON(raw json.RawMessage) (string, error) {
	var b strings.Builder
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := jsonToEDN(dec, &b); err != nil {
		return "", fmt.Errorf("value %s: %w", raw, err)
	}
	if dec.More() {
		return "", fmt.Errorf("value %s: more than one JSON value", raw)
	}
	return b.String(), nil
}

func jsonToEDN(dec *json.Decoder, b *strings.Builder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case nil:
		b.WriteString("nil")
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case json.Number:
		b.WriteString(t.String()) // JSON's number grammar is a subset of EDN's
	case string:
		b.WriteString(Quote(t))
	case json.Delim:
		isMap := t == '{'
		if isMap {
			b.WriteByte('{')
		} else {
			b.WriteByte('[')
		}
		for first := true; dec.More(); first = false {
			if !first && isMap {
				b.WriteString(", ")
			} else if !first {
				b.WriteByte(' ')
			}
			if isMap {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				name, ok := key.(string)
				if !ok {
					return fmt.Errorf("object key %v is not a string", key)
				}
				b.WriteString(formatMapKey(name))
				b.WriteByte(' ')
			}
			if err := jsonToEDN(dec, b); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		if isMap {
			b.WriteByte('}')
		} else {
			b.WriteByte(']')
		}
	}
	return nil
}

// formatMapKey renders a JSON object key as a keyword when it is a valid
// keyword name, else as a string.
func formatMapKey(key string) string {
	if isKeywordName(key) {
		return ":" + key
	}
	return Quote(key)
}

// isKeywordName reports whether :name reads back as the keyword name: a
// letter first, then letters, digits and the punctuation EDN allows, with
// no namespace slash.
func isKeywordName(name string) bool {
	if name == "" || !isAlpha(rune(name[0])) {
		return false
	}
	for _, c := range name {
		if !isAlpha(c) && !isDigit(c) && !strings.ContainsRune("*+!-_?$%&=<>.", c) {
			return false
		}
	}
	return true
}
