package nemesis

import (
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sees reports whether a receives from b under g (a node always sees itself).
func sees(g Grudge, a, b string) bool { return a == b || !slices.Contains(g[a], b) }

func visible(g Grudge, nodes []string, a string) int {
	n := 0
	for _, b := range nodes {
		if sees(g, a, b) {
			n++
		}
	}
	return n
}

func TestCleanLayoutsSplitIntoDisjointSides(t *testing.T) {
	for _, n := range []int{3, 5, 7} {
		nodes := NodeNames(n)
		for _, layout := range []string{"halves", "one", "random", "leader", "minority-leader"} {
			p, err := Resolve(layout, nodes, "n2", rand.New(rand.NewSource(int64(n))))
			require.NoError(t, err, layout)
			require.Len(t, p.Groups, 2, layout)
			all := append(slices.Clone(p.Groups[0]), p.Groups[1]...)
			slices.Sort(all)
			assert.Equal(t, sorted(nodes), all, "%s on %d nodes must place every node once", layout, n)
			for _, a := range p.Groups[0] {
				for _, b := range p.Groups[1] {
					assert.False(t, sees(p.Grudge, a, b), "%s: %s must not see %s", layout, a, b)
					assert.False(t, sees(p.Grudge, b, a), "%s: %s must not see %s", layout, b, a)
				}
				for _, b := range p.Groups[0] {
					assert.True(t, sees(p.Grudge, a, b), "%s: %s must see %s on its own side", layout, a, b)
				}
			}
		}
	}
}

func TestLayoutSizes(t *testing.T) {
	nodes := NodeNames(5)
	r := rand.New(rand.NewSource(1))
	cases := map[string]int{"halves": 2, "one": 1, "leader": 1, "minority-leader": 2}
	for layout, minority := range cases {
		p, err := Resolve(layout, nodes, "n4", r)
		require.NoError(t, err)
		assert.Len(t, p.Groups[0], minority, layout)
		if layout == "leader" || layout == "minority-leader" {
			assert.Contains(t, p.Groups[0], "n4", "%s must put the leader on the minority side", layout)
		}
	}
}

func TestBridgeAndMajoritiesRing(t *testing.T) {
	for _, n := range []int{5, 7} {
		nodes := NodeNames(n)
		p, err := Resolve("bridge", nodes, "", rand.New(rand.NewSource(3)))
		require.NoError(t, err)
		full := 0
		for _, a := range nodes {
			if visible(p.Grudge, nodes, a) == n {
				full++
			}
		}
		assert.Equal(t, 1, full, "bridge: exactly one node sees everyone")

		p, err = Resolve("majorities-ring", nodes, "", rand.New(rand.NewSource(3)))
		require.NoError(t, err)
		views := map[string]bool{}
		for _, a := range nodes {
			assert.Greater(t, 2*visible(p.Grudge, nodes, a), n, "ring: %s must see a majority", a)
			assert.Less(t, visible(p.Grudge, nodes, a), n, "ring: %s must not see everyone", a)
			for _, b := range nodes {
				assert.Equal(t, sees(p.Grudge, a, b), sees(p.Grudge, b, a), "ring is symmetric")
			}
			var view []string
			for _, b := range nodes {
				if sees(p.Grudge, a, b) {
					view = append(view, b)
				}
			}
			views[strings.Join(view, ",")] = true
		}
		assert.Len(t, views, n, "no two nodes see the same majority")
	}
}

func TestResolveIsDeterministicForASeed(t *testing.T) {
	nodes := NodeNames(7)
	for _, layout := range Layouts {
		a, err := Resolve(layout, nodes, "n1", rand.New(rand.NewSource(9)))
		require.NoError(t, err)
		b, err := Resolve(layout, nodes, "n1", rand.New(rand.NewSource(9)))
		require.NoError(t, err)
		assert.Equal(t, a, b, layout)
	}
}

func TestExplicitLayouts(t *testing.T) {
	p, err := Resolve("n1,n2|n3,n4,n5", NodeNames(5), "", rand.New(rand.NewSource(1)))
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"n1", "n2"}, {"n3", "n4", "n5"}}, p.Groups)
	assert.Equal(t, []string{"n3", "n4", "n5"}, p.Grudge["n1"])

	bad := map[string]string{
		"n1,n2|n3,n6":    "not one of n1..n5",
		"n1,n2|n2,n3,n4": "twice",
		"n1,n2,n3,n4,n5": "unknown layout",
		"n1,n2|n3":       "leaves out n4,n5",
		"n1,,n2|n3,n4":   "empty",
		"sideways":       "unknown layout",
	}
	for layout, want := range bad {
		assert.ErrorContains(t, ValidateLayout(layout, 5), want, layout)
	}
	assert.ErrorContains(t, ValidateLayout("majorities-ring", 3), "at least 4")
	assert.NoError(t, ValidateLayout("halves", 3))
}
