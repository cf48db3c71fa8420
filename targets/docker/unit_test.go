package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
)

func TestCandidateSubnets(t *testing.T) {
	all := candidateSubnets(nil, "run-a")
	require.Len(t, all, 256)
	require.Equal(t, all, candidateSubnets(nil, "run-a"), "the order is a function of the seed")
	require.NotEqual(t, all[0], candidateSubnets(nil, "run-b")[0], "runs start at different subnets")
	for _, p := range all {
		require.True(t, subnetPool.Contains(p.Addr()))
		require.Equal(t, 24, p.Bits())
	}

	used := []netip.Prefix{
		all[0],                              // taken exactly
		netip.MustParsePrefix("10.0.0.0/8"), // a wider pool overlapping all of them
	}
	require.Empty(t, candidateSubnets(used, "run-a"))

	used = []netip.Prefix{all[0], netip.MustParsePrefix(all[1].Addr().Next().String() + "/32")}
	got := candidateSubnets(used, "run-a")
	require.Len(t, got, 254)
	require.Equal(t, all[2], got[0], "taken subnets are skipped in order")
}

func TestHostAddr(t *testing.T) {
	p := netip.MustParsePrefix("10.240.7.0/24")
	require.Equal(t, "10.240.7.1", hostAddr(p, 1).String())
	require.Equal(t, "10.240.7.4", hostAddr(p, 4).String())
}

func TestClusterConfigValidate(t *testing.T) {
	good := ClusterConfig{RunID: "20261125T170328-ab", Target: idle{}, Image: "img", Nodes: 3}
	require.NoError(t, good.validate())
	for name, mutate := range map[string]func(*ClusterConfig){
		"empty run id": func(c *ClusterConfig) { c.RunID = "" },
		"slash in id":  func(c *ClusterConfig) { c.RunID = "a/b" },
		"leading dash": func(c *ClusterConfig) { c.RunID = "-a" },
		"no target":    func(c *ClusterConfig) { c.Target = nil },
		"no image":     func(c *ClusterConfig) { c.Image = "" },
		"zero nodes":   func(c *ClusterConfig) { c.Nodes = 0 },
		"too many":     func(c *ClusterConfig) { c.Nodes = maxNodes + 1 },
	} {
		c := good
		mutate(&c)
		require.Error(t, c.validate(), name)
	}
}

func TestShellQuote(t *testing.T) {
	require.Equal(t, "--name", shellQuote("--name"))
	require.Equal(t, "n1=http://10.240.0.2:2380,n2=http://10.240.0.3:2380", shellQuote("n1=http://10.240.0.2:2380,n2=http://10.240.0.3:2380"))
	require.Equal(t, "''", shellQuote(""))
	require.Equal(t, `'a b'`, shellQuote("a b"))
	require.Equal(t, `'it'\''s'`, shellQuote("it's"))
	require.Equal(t, `'$(rm -rf /)'`, shellQuote("$(rm -rf /)"))
	require.Equal(t, `etcd --x 'a b'`, shellJoin([]string{"etcd", "--x", "a b"}))
}

func TestExitCode(t *testing.T) {
	err := error(&ExitError{Node: "n1", Cmd: []string{"pkill"}, Code: 1, Output: "x\n"})
	require.Equal(t, 1, exitCode(err))
	require.Equal(t, 1, exitCode(errors.Join(errors.New("wrapped"), err)))
	require.Equal(t, -1, exitCode(errors.New("other")))
	require.Contains(t, err.Error(), "exit status 1: x")
}

func TestElectLeader(t *testing.T) {
	st := func(leader, term uint64) nodeStatus { return nodeStatus{leaderID: leader, term: term} }
	for _, tc := range []struct {
		name     string
		answered []nodeStatus
		n        int
		want     uint64
		ok       bool
	}{
		{"all agree", []nodeStatus{st(7, 2), st(7, 2), st(7, 2)}, 3, 7, true},
		{"majority beats a newer minority claim", []nodeStatus{st(7, 2), st(7, 2), st(9, 3)}, 3, 7, true},
		{"no majority: the highest term wins", []nodeStatus{st(7, 2), st(9, 3), st(0, 3)}, 5, 9, true},
		{"nobody knows a leader", []nodeStatus{st(0, 4), st(0, 4)}, 3, 0, false},
		{"nobody answered", nil, 3, 0, false},
	} {
		got, ok := electLeader(tc.answered, tc.n)
		require.Equal(t, tc.ok, ok, tc.name)
		require.Equal(t, tc.want, got, tc.name)
	}
}

func TestReadProgress(t *testing.T) {
	require.NoError(t, readProgress(strings.NewReader(`{"stream":"Step 1/2 : FROM x\n"}{"stream":"ok"}`)))
	err := readProgress(strings.NewReader(`{"stream":"Step 2/2 : COPY etcd /usr/local/bin/etcd\n"}{"errorDetail":{"message":"no space left"},"error":"no space left"}`))
	require.ErrorContains(t, err, "no space left")
	require.ErrorContains(t, err, "Step 2/2")
	require.Error(t, readProgress(strings.NewReader(`{"stream":`)))
}

func TestMirror(t *testing.T) {
	oneLine := "# deb http://commented.example/debian bookworm main\n" +
		"deb [signed-by=/usr/share/keyrings/k.gpg arch=amd64] http://mirror.example/debian/ bookworm main contrib\n"
	m, ok := oneLineMirror([]byte(oneLine), "bookworm")
	require.True(t, ok)
	require.Equal(t, "http://mirror.example/debian", m)
	_, ok = oneLineMirror([]byte(oneLine), "trixie")
	require.False(t, ok)

	deb822 := "Types: deb\n# http://snapshot.debian.org/archive/debian/20250520T000000Z\nURIs: http://deb.example/debian\n" +
		"Suites: bookworm bookworm-updates\nComponents: main\n\n" +
		"Types: deb\nURIs: http://deb.example/debian-security\nSuites: bookworm-security\nComponents: main\n"
	m, ok = deb822Mirror([]byte(deb822), "bookworm")
	require.True(t, ok)
	require.Equal(t, "http://deb.example/debian", m)
	m, ok = deb822Mirror([]byte(deb822), "bookworm-security")
	require.True(t, ok)
	require.Equal(t, "http://deb.example/debian-security", m)
	_, ok = deb822Mirror([]byte("Types: deb\nEnabled: no\nURIs: http://x/\nSuites: bookworm\n"), "bookworm")
	require.False(t, ok, "a disabled stanza does not count")

	dir := t.TempDir()
	require.Equal(t, DefaultMirror, mirrorFrom(dir, "bookworm"))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sources.list.d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sources.list.d", "other.list.disabled"), []byte("deb http://no/ bookworm main\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sources.list.d", "debian.sources"), []byte(deb822), 0o644))
	require.Equal(t, "http://deb.example/debian", mirrorFrom(dir, "bookworm"))
}

func TestBaseRecipeTag(t *testing.T) {
	tag := defaultRecipe.tag()
	require.Regexp(t, `^faultline/base:[0-9a-f]{12}$`, tag)
	other := defaultRecipe
	other.Iptables = "nft"
	require.NotEqual(t, tag, other.tag(), "the iptables backend is part of the recipe")
}

func TestWriteRootfsTar(t *testing.T) {
	root := t.TempDir()
	must := func(err error) { t.Helper(); require.NoError(t, err) }
	must(os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "proc/1"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "var/lib/apt/lists/partial"), 0o755))
	must(os.WriteFile(filepath.Join(root, "usr/bin/tool"), []byte("#!/bin/sh\n"), 0o755))
	must(os.Link(filepath.Join(root, "usr/bin/tool"), filepath.Join(root, "usr/bin/tool2")))
	must(os.Symlink("usr/bin", filepath.Join(root, "bin")))
	must(os.WriteFile(filepath.Join(root, "proc/1/stat"), []byte("x"), 0o644))
	must(os.WriteFile(filepath.Join(root, "var/lib/apt/lists/big_Packages"), []byte("x"), 0o644))

	var buf bytes.Buffer
	must(writeRootfsTar(&buf, root))
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		must(err)
		entries[hdr.Name] = hdr
	}
	require.Contains(t, entries, "usr/bin/")
	require.Equal(t, byte(tar.TypeSymlink), entries["bin"].Typeflag)
	require.Equal(t, "usr/bin", entries["bin"].Linkname)
	require.Equal(t, int64(0o755), entries["usr/bin/tool"].Mode&0o777)
	require.Equal(t, byte(tar.TypeLink), entries["usr/bin/tool2"].Typeflag, "hard links stay links")
	require.Contains(t, entries, "proc/")
	require.NotContains(t, entries, "proc/1/", "pseudo filesystems are left empty")
	require.Contains(t, entries, "var/lib/apt/lists/partial/")
	require.NotContains(t, entries, "var/lib/apt/lists/big_Packages", "apt's downloads stay out")
}

func TestUnescapeMountPath(t *testing.T) {
	require.Equal(t, "/tmp/a b", unescapeMountPath(`/tmp/a\040b`))
	require.Equal(t, "/plain", unescapeMountPath("/plain"))
}

// idle is a target whose process does nothing; it lets cluster code be
// exercised without a store.
type idle struct{}

func (idle) Name() string        { return "idle" }
func (idle) ProcessName() string { return "tail" }
func (idle) LogPath() string     { return "/var/log/idle.log" }
func (idle) ClientPort() int     { return 2379 }
func (idle) Image(context.Context, targets.ImageBuilder) (string, error) {
	return "", errors.New("idle has no image of its own")
}
func (idle) Command(harness.Node, []harness.Node, targets.ClusterState) []string {
	return []string{"tail", "-f", "/dev/null"}
}
