package edn

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds are the seed corpus: the hand-written histories, and small
// inputs that reach every branch of the reader, malformed ones included.
func fuzzSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{
		nil, []byte(""), []byte("nil"), []byte("[1 2 (3) {:a #{4}}]"),
		[]byte(`{:index 0, :time 1, :type :invoke, :process 0, :f :write, :value [:r1 3]}`),
		[]byte(`({:process :nemesis :type :info :f :kill :value {"n1" #{"n2"}}})`),
		[]byte(`"\u00e9\n\t\"" \newline \u0041 \x ##Inf ##NaN -0 1N 2.5M 1e308 1e999`),
		[]byte(`#inst "2020" #_ #_ 1 2 #my.ns/tag [] ;c`), []byte("[[[[[[[["), []byte("}"),
		[]byte(`{:a 1 :a 2}`), []byte(`#{1 1}`), []byte("\"\xff"), []byte(`\u12`), []byte(`#`), []byte(`##`),
		[]byte(`[{:process 0 :type :invoke :f :cas :value ["k" [1 2]]} {:process 0 :type :ok :f :cas :value ["k" [1 2]]}]`),
		[]byte(`{:process 0 :type :ok :f :read :value [#t "" nil]}`), []byte(`{:process 0 :type :invoke :f :write :value #t nil}`),
	}
	files, err := filepath.Glob("testdata/*.edn")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzRead holds the reader to its promises on any input: it never
// panics; it fails only with an *Error whose position lies inside the
// input; and every value it reads renders as EDN that reads back as the
// same value. The seed corpus runs as a plain test under `go test`.
func FuzzRead(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		lines := bytes.Count(src, []byte("\n")) + 1
		r := NewReader(src)
		for {
			v, err := r.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is not an *Error", err)
				}
				if e.Pos.Line < 1 || e.Pos.Line > lines || e.Pos.Col < 1 {
					t.Fatalf("error %v lies outside the %d lines of the input", err, lines)
				}
				return
			}
			text := v.String()
			again, err := NewReader([]byte(text)).Read()
			if err != nil {
				t.Fatalf("%q renders as %q, which does not read back: %v", src, text, err)
			}
			if again.String() != text {
				t.Fatalf("%q renders as %q, which reads back as %q", src, text, again.String())
			}
		}
	})
}

// FuzzReadHistory: a history read from any input is written and read back
// as the very same history, and a refusal is an *Error.
func FuzzReadHistory(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		h, err := ReadHistory(src, CASRegister)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := WriteHistory(&buf, h); err != nil {
			t.Fatalf("a history read from %q cannot be written: %v", src, err)
		}
		back, err := ReadHistory(buf.Bytes(), CASRegister)
		if err != nil {
			t.Fatalf("%q written as %q does not read back: %v", src, buf.String(), err)
		}
		if len(back) != len(h) {
			t.Fatalf("%d ops read back as %d", len(h), len(back))
		}
		for i := range h {
			a, b := h[i], back[i]
			if a.Index != b.Index || a.Time != b.Time || a.Type != b.Type || a.Process != b.Process || a.F != b.F ||
				a.Key != b.Key || !bytes.Equal(a.Value, b.Value) || a.Node != b.Node || a.Error != b.Error {
				t.Fatalf("op %d: %+v read back as %+v (via %q)", i, a, b, buf.String())
			}
		}
	})
}
