package release

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSpecKeys(t *testing.T) {
	keys := map[string]bool{}
	for _, s := range []string{"v3.5.2", "v3.5.5", "v3.7.3"} {
		for _, fp := range []bool{false, true} {
			spec, err := Spec(t.Context(), s, fp)
			require.NoError(t, err)
			require.NoError(t, spec.Validate())
			require.Equal(t, "etcd", spec.Name)
			require.Contains(t, spec.Key, "etcd "+s+" ")
			require.False(t, keys[spec.Key], "key %q twice", spec.Key)
			keys[spec.Key] = true
		}
	}
}

func TestKeyFollowsTheBuildModule(t *testing.T) {
	v := Version{3, 5, 2}
	kept, err := FindModule(t.Context(), v)
	require.NoError(t, err)
	m := Module{Version: v, Dir: t.TempDir()}
	for _, name := range []string{"go.mod", "go.sum"} {
		require.NoError(t, copyFile(filepath.Join(kept.Dir, name), filepath.Join(m.Dir, name)))
	}
	before, err := Key(m, false)
	require.NoError(t, err)
	same, err := Key(kept, false)
	require.NoError(t, err)
	require.Equal(t, before, same, "the key depends on the files, not where they are")

	f, err := os.OpenFile(filepath.Join(m.Dir, "go.sum"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("golang.org/x/sys v0.30.0 h1:QjkSwP/36a20jFYWkSue1YwXzLmsV5Gfq7Eiy72C1uc=\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	after, err := Key(m, false)
	require.NoError(t, err)
	require.NotEqual(t, before, after)
}

func TestFixesFor(t *testing.T) {
	saved := fixes
	t.Cleanup(func() { fixes = saved })
	fixes = []fix{{From: Version{3, 5, 0}, To: Version{3, 5, 3}, Module: "golang.org/x/sys", Version: "v0.1.0", Why: "test"}}
	require.Len(t, fixesFor(Version{3, 5, 0}), 1)
	require.Len(t, fixesFor(Version{3, 5, 3}), 1)
	require.Empty(t, fixesFor(Version{3, 5, 4}))
	require.Contains(t, goMod(Version{3, 5, 2}), "// test\nrequire golang.org/x/sys v0.1.0\n")
	require.NotContains(t, goMod(Version{3, 6, 0}), "golang.org/x/sys")
}
