package customtarget_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/examples/customtarget"
	"github.com/faultline/faultline/targets"
)

// buildStore compiles the "user's" store: here faultline's own kvnode,
// statically, into a temporary directory.
func buildStore(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "mykv")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "github.com/faultline/faultline/kvnode/cmd/kvnode")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "build the store: %s", b)
	return out
}

// TestMyStoreStaysLinearizable is what a user's own test looks like: their
// store as a targets.Custom, a spec naming it, faultline.Run, and
// faultline.RequireValid. It runs real containers with real iptables
// rules, like every end-to-end test, and needs a Docker engine.
func TestMyStoreStaysLinearizable(t *testing.T) {
	mykv := customtarget.Target(buildStore(t))
	require.NoError(t, mykv.Validate())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := faultline.Run(ctx, faultline.Spec{
		Target: "mykv", Nodes: 3, Workload: "register",
		Nemesis: []string{"partition"}, Partition: "one",
		TimeLimit: 16 * time.Second, NemesisInterval: 4 * time.Second, Rate: 100,
		Store: t.TempDir(),
	}, faultline.EnvOptions{Targets: []targets.Target{mykv}, Logf: t.Logf})
	faultline.RequireValid(t, res, err)
	assert.True(t, strings.HasPrefix(res.Spec.Versions["image"], "faultline/mykv:"), "the binary is layered on the base image: %v", res.Spec.Versions)
	assert.Len(t, res.Spec.Cluster, 3)
	assert.Contains(t, res.Results.Checkers, "linearizable")
	assert.FileExists(t, filepath.Join(res.Dir, "nodes", "n1", "mykv.log"), "the store's log is copied out under its own name")
	assert.Positive(t, len(res.History.Client()), "clients must have run")
}

// TestMyStoreIsRefusedWhatItCannotDo: a custom target is held to the same
// rules as the built-in ones, before anything starts.
func TestMyStoreIsRefusedWhatItCannotDo(t *testing.T) {
	mykv := customtarget.Target("/nonexistent/mykv")
	_, err := faultline.Validate(faultline.Spec{Target: "mykv", Workload: "watch"}, mykv)
	assert.ErrorContains(t, err, "needs etcd's Watch API, which target mykv does not implement")
	_, err = faultline.Validate(faultline.Spec{Target: "mystore"}, mykv)
	assert.ErrorContains(t, err, "want one of mykv, etcd, kvnode")
	assert.ErrorContains(t, mykv.Validate(), "binary")
}
