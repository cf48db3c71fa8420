package fault

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"1mbit": 1e6, "500kbit": 5e5, "2mbps": 16e6, "1.5gbit": 1.5e9, "64000bit": 64000} {
		got, err := ParseRate(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "fast", "10", "1 mbit", "-1mbit", "100bit", "999gbit", "1e9mbit", "NaNmbit"} {
		_, err := ParseRate(in)
		assert.Error(t, err, in)
	}
}
