package harness

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCount(t *testing.T) {
	assert.Equal(t, "0 outages", Count(0, "outage"))
	assert.Equal(t, "1 outage", Count(1, "outage"))
	assert.Equal(t, "2 pages", Count(2, "page"))
}

func TestShorten(t *testing.T) {
	assert.Equal(t, "abc", Shorten("abc", 3))
	assert.Equal(t, "ab…", Shorten("abcd", 3))
	assert.Equal(t, "ü…", Shorten("üüü", 2), "runes, not bytes")
}
