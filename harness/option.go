package harness

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Option is one named setting of a fault kind or a workload: a flag of
// `faultline test` and a key of Spec.FaultOptions or Spec.WorkloadOptions.
// Values are kept as the text the user typed, so that test.json shows
// them as given and a replay parses them exactly as the first run did.
type Option struct {
	// Name is the flag's name, without dashes, e.g. "loss-probability".
	Name string
	// Default is the value used when none is given.
	Default string
	// Usage is the flag's help text.
	Usage string
	// Check says what is wrong with a value, or nil. It must accept
	// Default.
	Check func(value string) error
}

// Validate checks value with the option's own rule and returns a
// FlagError naming the option's flag and quoting what was typed.
func (o Option) Validate(value string) error {
	if o.Check == nil {
		return nil
	}
	if err := o.Check(value); err != nil {
		return BadFlag(o.Name, "%v, got %s", err, Quote(value))
	}
	return nil
}

// Options holds option values by name.
type Options map[string]string

// Get returns the value of name, or def when it is not set.
func (o Options) Get(name, def string) string {
	if v, ok := o[name]; ok {
		return v
	}
	return def
}

// Clone returns a copy that shares nothing with o.
func (o Options) Clone() Options {
	if o == nil {
		return nil
	}
	return maps.Clone(o)
}

// Names lists the names set in o, sorted.
func (o Options) Names() []string { return slices.Sorted(maps.Keys(o)) }

// Quote renders a value the user typed for an error message: quoted, with
// control characters escaped, and cut to 60 characters so that a huge
// value is never echoed whole.
func Quote(v string) string {
	const max = 60
	if r := []rune(v); len(r) > max {
		return strconv.Quote(string(r[:max])) + fmt.Sprintf(" (%d characters in all)", len(r))
	}
	return strconv.Quote(v)
}

// The checks options use most. Each returns an error saying what is
// allowed; Option.Validate adds the flag's name and the value typed.

// CheckOneOf accepts exactly the given words.
func CheckOneOf(words ...string) func(string) error {
	return func(v string) error {
		if slices.Contains(words, v) {
			return nil
		}
		return fmt.Errorf("want one of %s", strings.Join(words, ", "))
	}
}

// CheckFloat accepts a finite decimal number in [lo, hi].
func CheckFloat(lo, hi float64) func(string) error {
	return func(v string) error {
		_, err := ParseFloatIn(v, lo, hi)
		return err
	}
}

// ParseFloatIn parses a finite decimal number in [lo, hi]. NaN, the
// infinities and hexadecimal floats are refused.
func ParseFloatIn(v string, lo, hi float64) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	want := fmt.Sprintf("want a number from %s to %s", strconv.FormatFloat(lo, 'g', -1, 64), strconv.FormatFloat(hi, 'g', -1, 64))
	switch {
	case err != nil || strings.ContainsAny(v, "xXpP_") || math.IsNaN(f) || math.IsInf(f, 0):
		return 0, fmt.Errorf("%s", want)
	case f < lo || f > hi:
		return 0, fmt.Errorf("%s", want)
	}
	return f, nil
}

// CheckProbability accepts a finite number between 0 and 1.
func CheckProbability(v string) error {
	if _, err := ParseFloatIn(v, 0, 1); err != nil {
		return fmt.Errorf("want a probability between 0 and 1")
	}
	return nil
}

// CheckWholeSeconds accepts a whole number of seconds in [lo, hi].
func CheckWholeSeconds(lo, hi int) func(string) error {
	return func(v string) error {
		_, err := ParseWholeSeconds(v, lo, hi)
		return err
	}
}

// ParseWholeSeconds parses a whole number of seconds in [lo, hi], such as
// "2" (a Go duration such as "2s" is accepted too).
func ParseWholeSeconds(v string, lo, hi int) (time.Duration, error) {
	want := fmt.Errorf("want a whole number of seconds from %d to %d", lo, hi)
	d, err := time.ParseDuration(v)
	if err != nil {
		f, ferr := ParseFloatIn(v, float64(lo), float64(hi))
		if ferr != nil || f != math.Trunc(f) {
			return 0, want
		}
		return time.Duration(f) * time.Second, nil
	}
	if d%time.Second != 0 || d < time.Duration(lo)*time.Second || d > time.Duration(hi)*time.Second {
		return 0, want
	}
	return d, nil
}

// CheckDuration accepts a Go duration (such as 50ms) in (lo, hi].
func CheckDuration(lo, hi time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= lo || d > hi {
			return fmt.Errorf("want a duration above %v and at most %v, such as 50ms", lo, hi)
		}
		return nil
	}
}

// CheckInt accepts a decimal integer in [lo, hi].
func CheckInt(lo, hi int) func(string) error {
	return func(v string) error {
		_, err := ParseIntIn(v, lo, hi)
		return err
	}
}

// ParseIntIn parses a decimal integer in [lo, hi].
func ParseIntIn(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

// Shorten cuts s to at most n runes, marking the cut with an ellipsis.
func Shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Count renders n things for a person: "1 outage", "2 outages".
func Count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// ParseWords parses a comma-separated list of words, each one of allowed
// and none twice, as options that choose some of a fixed set take them.
// noun names one word in the errors: `unknown mode "x": want some of a,
// b`.
func ParseWords(v string, allowed []string, noun string) ([]string, error) {
	var out []string
	for _, w := range strings.Split(v, ",") {
		w = strings.TrimSpace(w)
		switch {
		case !slices.Contains(allowed, w):
			return nil, fmt.Errorf("unknown %s %s: want some of %s", noun, Quote(w), strings.Join(allowed, ", "))
		case slices.Contains(out, w):
			return nil, fmt.Errorf("%s %s named twice", noun, w)
		}
		out = append(out, w)
	}
	return out, nil
}
