package targets

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClusterState(t *testing.T) {
	require.Equal(t, "new", New.String())
	require.Equal(t, "existing", Existing.String())
}

func TestBinarySpecValidate(t *testing.T) {
	build := func(context.Context, string) error { return nil }
	require.NoError(t, BinarySpec{Name: "etcd", Build: build}.Validate())
	require.Error(t, BinarySpec{Build: build}.Validate())
	require.Error(t, BinarySpec{Name: "etcd"}.Validate())
}

func TestClientOptsDefaults(t *testing.T) {
	cfg := ClientOpts{}.config([]string{"http://10.240.0.2:2379"})
	require.Equal(t, DefaultDialTimeout, cfg.DialTimeout)
	require.Equal(t, DefaultKeepAliveTime, cfg.DialKeepAliveTime)
	require.Equal(t, DefaultKeepAliveTimeout, cfg.DialKeepAliveTimeout)
	require.Zero(t, cfg.AutoSyncInterval, "a pinned client must not sync its endpoints")
	require.False(t, cfg.RejectOldCluster)
	require.NotNil(t, cfg.Logger)
	require.NotEmpty(t, cfg.DialOptions)

	cfg = ClientOpts{KeepAliveTime: time.Second, DialTimeout: 300 * time.Millisecond}.config([]string{"x"})
	require.Equal(t, minKeepAliveTime, cfg.DialKeepAliveTime, "pings faster than etcd allows are raised")
	require.Equal(t, 300*time.Millisecond, cfg.DialTimeout)
}

func TestOpenClient(t *testing.T) {
	_, err := OpenClient(context.Background(), nil, ClientOpts{})
	require.Error(t, err)

	// Opening does not wait for a connection: a node that is down still
	// yields a client, whose ops then fail.
	c, err := OpenClient(context.Background(), []string{"http://127.0.0.1:1"}, ClientOpts{})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = c.Get(ctx, "k")
	require.Error(t, err)
}

func TestModule(t *testing.T) {
	root, err := ModuleRoot()
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"))

	line, err := RequiredModule(root, "go.etcd.io/etcd/server/v3")
	require.NoError(t, err)
	require.Regexp(t, `^go\.etcd\.io/etcd/server/v3 v3\.\d+\.\d+ h1:\S+=$`, line)
	_, err = RequiredModule(root, "example.com/not/required")
	require.Error(t, err)
}

func TestGoSumLine(t *testing.T) {
	sum := "a.b/c v1.0.0 h1:AAA=\na.b/c v1.0.0/go.mod h1:BBB=\na.b/cd v1.0.0 h1:CCC=\n"
	line, ok := goSumLine([]byte(sum), "a.b/c")
	require.True(t, ok)
	require.Equal(t, "a.b/c v1.0.0 h1:AAA=", line)
	_, ok = goSumLine([]byte("a.b/c v1.0.0/go.mod h1:BBB=\n"), "a.b/c")
	require.False(t, ok, "a go.mod-only line names no source")
	require.Equal(t, "x/y", modulePathOf([]byte("// c\nmodule \"x/y\"\n\ngo 1.26\n")))
}

func TestHashTree(t *testing.T) {
	root := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(body), 0o644))
	}
	write("prog/main.go", "package main")
	write("prog/sub/x.go", "package sub")
	write("go.sum", "sums")
	h1, err := HashTree(root, "prog", "go.sum")
	require.NoError(t, err)
	require.Len(t, h1, 64)
	h2, err := HashTree(root, "prog", "go.sum")
	require.NoError(t, err)
	require.Equal(t, h1, h2)

	write("prog/sub/x.go", "package sub // changed")
	h3, err := HashTree(root, "prog", "go.sum")
	require.NoError(t, err)
	require.NotEqual(t, h1, h3)

	// Moving bytes from one file to the next changes the hash.
	write("prog/main.go", "package mainpackage sub // changed")
	write("prog/sub/x.go", "")
	h4, err := HashTree(root, "prog", "go.sum")
	require.NoError(t, err)
	require.NotEqual(t, h3, h4)

	_, err = HashTree(root, "missing")
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "missing"))
}
