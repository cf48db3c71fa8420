package release

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestResolveRefusesWhatIsNoRelease(t *testing.T) {
	tmp, cache := isolate(t)
	for _, s := range []string{"v3.5.99", "v3.7.99"} {
		_, err := Resolve(t.Context(), s)
		require.ErrorContains(t, err, "etcd version "+s+": the Go module proxy does not serve go.etcd.io/etcd/server/v3@"+s,
			"the proxy must be reachable and say no")
		require.ErrorContains(t, err, "v3.5.0 or later, written vX.Y.Z")
		require.ErrorContains(t, err, "v3.7.3", "it names releases that exist")

		_, err = Spec(t.Context(), s, true)
		require.ErrorContains(t, err, "etcd version "+s)
		_, err = Failpoints(s)
		require.ErrorContains(t, err, "etcd version "+s)
	}
	_, err := Spec(t.Context(), "v3.4.0", false)
	require.ErrorContains(t, err, "older than v3.5.0")
	require.Empty(t, entries(t, tmp), "a refusal leaves no scratch files")
	require.Empty(t, entries(t, cache), "a refusal leaves no build module")
}

func TestResolveRelease(t *testing.T) {
	isolate(t)
	v, err := Resolve(t.Context(), "v3.5.21")
	require.NoError(t, err, "needs the go command and the module proxy")
	require.Equal(t, Version{3, 5, 21}, v)
}

func TestRefusalOfAnUnreachableProxy(t *testing.T) {
	err := refusal(Version{3, 5, 2}, errors.New(`Get "https://proxy.golang.org/...": dial tcp: lookup proxy.golang.org: no such host`))
	require.ErrorContains(t, err, "etcd version v3.5.2: cannot ask the Go module proxy whether it exists")
}

func TestCachedBuildModule(t *testing.T) {
	tmp, cache := isolate(t)
	spec, err := Spec(t.Context(), "v3.5.20", false)
	require.NoError(t, err, "needs the go command and the module proxy")
	dir := filepath.Join(cache, "faultline", "etcd", "v3.5.20")
	require.Equal(t, []string{"v3.5.20"}, entries(t, filepath.Dir(dir)), "no scratch directory is left beside it")
	require.ElementsMatch(t, []string{"go.mod", "go.sum"}, entries(t, dir))
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	require.Contains(t, string(gomod), "require go.etcd.io/etcd/server/v3 v3.5.20")
	require.Empty(t, entries(t, tmp))

	info, err := os.Stat(filepath.Join(dir, "go.sum"))
	require.NoError(t, err)
	again, err := Spec(t.Context(), "v3.5.20", false)
	require.NoError(t, err)
	require.Equal(t, spec.Key, again.Key)
	info2, err := os.Stat(filepath.Join(dir, "go.sum"))
	require.NoError(t, err)
	require.Equal(t, info.ModTime(), info2.ModTime(), "a cached build module is generated once")

	// A fix added later for the release makes the next Spec generate the
	// cached module again, with the fix and its comment.
	saved := fixes
	t.Cleanup(func() { fixes = saved })
	fixes = []fix{{From: Version{3, 5, 20}, To: Version{3, 5, 20}, Module: "golang.org/x/sys", Version: "v0.42.0", Why: "a fix the test adds"}}
	fixed, err := Spec(t.Context(), "v3.5.20", false)
	require.NoError(t, err)
	require.NotEqual(t, spec.Key, fixed.Key)
	gomod, err = os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	require.Contains(t, string(gomod), "// a fix the test adds\nrequire golang.org/x/sys v0.42.0")
	require.Equal(t, []string{"v3.5.20"}, entries(t, filepath.Dir(dir)))
}
