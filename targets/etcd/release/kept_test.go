package release

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/targets"
)

// TestKeptModules checks that the repository keeps a build module for
// exactly the Pinned releases, and that each is what Generate makes of it
// today: a change of goMod or of fixes must come with `etcdrelease keep`.
func TestKeptModules(t *testing.T) {
	root, err := targets.ModuleRoot()
	require.NoError(t, err)
	kept := filepath.Join(root, KeptModules)
	require.ElementsMatch(t, Pinned, entries(t, kept))
	for _, s := range Pinned {
		v, err := ParseVersion(s)
		require.NoError(t, err)
		m, err := FindModule(t.Context(), v)
		require.NoError(t, err)
		require.True(t, m.Kept)
		require.Equal(t, filepath.Join(kept, s), m.Dir)

		fresh := filepath.Join(t.TempDir(), s)
		require.NoError(t, Generate(t.Context(), fresh, v), "needs the go command and the module proxy")
		for _, name := range []string{"go.mod", "go.sum"} {
			want, err := os.ReadFile(filepath.Join(fresh, name))
			require.NoError(t, err)
			got, err := os.ReadFile(filepath.Join(m.Dir, name))
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "%s/%s is not what etcdrelease keep %s makes", s, name, s)
		}
	}
}
