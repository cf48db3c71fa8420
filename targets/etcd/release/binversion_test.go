package release

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServerVersion(t *testing.T) {
	v, err := ServerVersion("etcd Version: 3.5.2\nGit SHA: Not provided (use ./build instead of go build)\nGo Version: go1.26.8\nGo OS/Arch: linux/amd64")
	require.NoError(t, err)
	require.Equal(t, "3.5.2", v)
	_, err = ServerVersion("kvnode 1.0")
	require.Error(t, err)
}

func TestBinaryVersionOfAMissingBinary(t *testing.T) {
	_, err := BinaryVersion(t.Context(), "/nonexistent/etcd")
	require.ErrorContains(t, err, "/nonexistent/etcd --version")
}

func TestFirstLines(t *testing.T) {
	require.Equal(t, "a\nb", firstLines("a\nb", 2))
	require.Equal(t, "a\nb\n... (2 more lines)", firstLines("a\nb\nc\nd", 2))
}
