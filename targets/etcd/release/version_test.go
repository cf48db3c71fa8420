package release

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseVersion(t *testing.T) {
	for _, s := range []string{"v3.5.0", "v3.5.2", "v3.5.35", "v3.6.16", "v3.7.3", "v3.10.0"} {
		v, err := ParseVersion(s)
		require.NoError(t, err, s)
		require.Equal(t, s, v.String())
	}
	for s, want := range map[string]string{
		"3.5.2":        "not of the form vX.Y.Z",
		"v3.5":         "not of the form vX.Y.Z",
		"v3.5.2-rc.0":  "not of the form vX.Y.Z",
		"v3.05.2":      "not of the form vX.Y.Z",
		"":             "not of the form vX.Y.Z",
		" v3.5.2":      "not of the form vX.Y.Z",
		"v3.4.27":      "older than v3.5.0",
		"v3.0.0":       "older than v3.5.0",
		"v2.3.8":       "major version 2",
		"v4.0.0":       "major version 4",
		"latest":       "not of the form vX.Y.Z",
		"v3.5.2+build": "not of the form vX.Y.Z",
	} {
		_, err := ParseVersion(s)
		require.ErrorContains(t, err, want, "%q", s)
		require.ErrorContains(t, err, "v3.5.0 or later", "the error says what is allowed")
	}
}

func TestVersionLess(t *testing.T) {
	order := []string{"v3.5.0", "v3.5.2", "v3.5.10", "v3.6.0", "v3.6.16", "v3.7.3", "v3.10.0"}
	for i := range order {
		for j := range order {
			a, err := ParseVersion(order[i])
			require.NoError(t, err)
			b, err := ParseVersion(order[j])
			require.NoError(t, err)
			require.Equal(t, i < j, a.Less(b), "%s < %s", a, b)
		}
	}
}
