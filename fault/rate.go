package fault

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ratePattern is a tc rate: a number and a unit, bits (bit) or bytes
// (bps) per second, with an optional k, m or g.
var ratePattern = regexp.MustCompile(`^([0-9]{1,12}(?:\.[0-9]{1,6})?)([kmg]?)(bit|bps)$`)

// maxRate is the highest rate a bandwidth fault takes: a limit above
// 100 gbit limits nothing on any machine faultline runs on.
const maxRate = 100e9

// ParseRate reads a --bandwidth value such as 1mbit, 500kbit or 2mbps
// (bytes) and returns it in bits per second.
func ParseRate(s string) (float64, error) {
	m := ratePattern.FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return 0, fmt.Errorf("rate %s: want a number and a unit as tc writes them: bit, kbit, mbit, gbit (bits per second) or bps, kbps, mbps (bytes)", harmless(s))
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	v *= map[string]float64{"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m[2]]
	if m[3] == "bps" {
		v *= 8
	}
	switch {
	case v < 8000:
		return 0, fmt.Errorf("rate %s: below 8kbit even a heartbeat would not get through", harmless(s))
	case v > maxRate:
		return 0, fmt.Errorf("rate %s: above 100gbit it limits nothing", harmless(s))
	}
	return v, nil
}

// checkRate is the bandwidth option's check: ParseRate without repeating
// the value, which Option.Validate quotes.
func checkRate(s string) error {
	if _, err := ParseRate(s); err != nil {
		return fmt.Errorf("want a number and a unit as tc writes them (bit, kbit, mbit, gbit, or bps, kbps, mbps for bytes), from 8kbit to 100gbit, such as 1mbit")
	}
	return nil
}

// harmless quotes a value for a message, cut short.
func harmless(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "..."
	}
	return strconv.Quote(s)
}
