package release

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScanFailpoints(t *testing.T) {
	fps, err := ScanFailpoints("testdata/scan")
	require.NoError(t, err)
	require.Equal(t, []Failpoint{
		{Name: "defragBeforeCopy", File: "backend/backend.go", Line: 5},
		{Name: "defragBeforeRename", File: "backend/backend.go", Line: 7},
		{Name: "raftAfterSave", File: "raft/raft.go", Line: 10},
		{Name: "raftBeforeSave", File: "raft/raft.go", Line: 6},
		{Name: "raftDropHeartbeat", File: "raft/raft.go", Line: 17},
	}, fps, "sorted by name; labels, tests and testdata left out")
	require.Equal(t, []string{"backend/backend.go", "raft/raft.go"}, failpointFiles(fps))
}

func TestScanFailpointsRefuses(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			p := filepath.Join(dir, name)
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		}
		return dir
	}
	dir := write(t, map[string]string{
		"a/a.go": "package a\n\nfunc f() {\n\t// gofail: var twice struct{}\n}\n",
		"b/b.go": "package b\n\nfunc g() {\n\t// gofail: var twice struct{}\n}\n",
	})
	_, err := ScanFailpoints(dir)
	require.ErrorContains(t, err, "twice is declared at a/a.go:4 and b/b.go:4")

	dir = write(t, map[string]string{"a/a.go": "package a\n\n// gofail: var noType\n"})
	_, err = ScanFailpoints(dir)
	require.ErrorContains(t, err, "a/a.go:3: malformed gofail comment")

	_, err = ScanFailpoints(filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
}

func TestFailpointsOfARelease(t *testing.T) {
	names, err := Failpoints("v3.5.2")
	require.NoError(t, err, "needs the go command and the module proxy (or the module cache)")
	require.Len(t, names, 14)
	require.Contains(t, names, "raftBeforeSave")
	require.Contains(t, names, "defragBeforeRename")
	require.NotContains(t, names, "beforeLookupWhenForwardLeaseTimeToLive")

	require.NoError(t, CheckFailpoints(t.Context(), "v3.5.2", []string{"raftBeforeSave", "raftAfterSave"}))
	err = CheckFailpoints(t.Context(), "v3.5.2", []string{"raftBeforeSave", "noSuchPoint"})
	require.ErrorContains(t, err, "etcd v3.5.2 has no failpoint noSuchPoint; it has ")
	require.ErrorContains(t, err, "raftAfterSave")

	_, err = Failpoints("v3.4.0")
	require.ErrorContains(t, err, "older than v3.5.0")
}
