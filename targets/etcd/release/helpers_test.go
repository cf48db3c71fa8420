package release

import (
	"encoding/base64"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// isolate points TMPDIR and XDG_CACHE_HOME at empty directories of their
// own, which it returns, and keeps the go command's build and module
// caches where they were (GOCACHE defaults to a directory under
// XDG_CACHE_HOME).
func isolate(t *testing.T) (tmp, cache string) {
	t.Helper()
	for _, name := range []string{"GOCACHE", "GOMODCACHE"} {
		out, err := exec.Command("go", "env", name).Output()
		require.NoError(t, err, "the go command is needed")
		t.Setenv(name, strings.TrimSpace(string(out)))
	}
	tmp, cache = t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("XDG_CACHE_HOME", cache)
	return tmp, cache
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// b64 is s in standard base64, as etcd's JSON gateway wants keys and values.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
