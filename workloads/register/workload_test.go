package register

import (
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/checker/linearizable"
	"github.com/faultline/faultline/harness"
)

// The workload plugs into the runner's interfaces.
var (
	_ harness.Workload = (*Workload)(nil)
	_ harness.Observer = (*Generator)(nil)
	_ harness.Client   = (*Client)(nil)
)

func TestWorkload(t *testing.T) {
	w, err := New(Options{})
	require.NoError(t, err)
	require.Equal(t, "register", w.Name())

	checkers := w.Checkers()
	require.Len(t, checkers, 1)
	require.Equal(t, "linearizable", checkers[0].Name())

	// Each call gives a fresh generator: both start at r0.
	r := rand.New(rand.NewSource(1))
	a, _ := w.Generator().Next(r, 0)
	b, _ := w.Generator().Next(r, 0)
	require.Equal(t, "r0", a.Key)
	require.Equal(t, "r0", b.Key)
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, tc := range map[string]struct {
		opts Options
		want string
	}{
		"ops per key":      {Options{Generator: GeneratorOptions{OpsPerKey: -5}}, "ops per key must not be negative"},
		"processes":        {Options{Generator: GeneratorOptions{ProcessesPerKey: -1}}, "processes per key must not be negative"},
		"check timeout":    {Options{Check: linearizable.Options{Timeout: -time.Second}}, "timeout must not be negative"},
		"check key budget": {Options{Check: linearizable.Options{KeyTimeout: -time.Second}}, "key timeout must not be negative"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(tc.opts)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
