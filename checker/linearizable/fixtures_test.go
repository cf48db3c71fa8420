package linearizable_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/checker/fixture"
	"github.com/faultline/faultline/checker/linearizable"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/workloads/register"
)

// TestFixtures runs the checker with the register model over every
// testdata/*.txt history and compares the verdicts and anomalies with the
// expected output below the "----" line. Fixtures named accept-* must be
// valid and reject-* invalid, so a fixture cannot drift into proving the
// opposite of its name. Run with -update to rewrite expectations.
func TestFixtures(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			input, want, ok := strings.Cut(string(raw), "----\n")
			require.True(t, ok, "fixture has no ---- line")
			h, err := fixture.ParseHistory(input)
			require.NoError(t, err)
			require.NoError(t, h.Validate(), "fixture history is malformed")

			c, err := linearizable.New(register.Model(), linearizable.Options{})
			require.NoError(t, err)
			out := t.TempDir()
			res := c.Check(context.Background(), h, out)
			got := render(res)

			if fixture.Updating() {
				require.NoError(t, os.WriteFile(path, []byte(input+"----\n"+got), 0o644))
				return
			}
			require.Equal(t, want, got)
			switch {
			case strings.HasPrefix(name, "accept-"):
				require.Equal(t, harness.ValidTrue, res.Valid)
			case strings.HasPrefix(name, "reject-"):
				require.Equal(t, harness.ValidFalse, res.Valid)
			}
			d := res.Details.(*linearizable.Details)
			for _, k := range d.PerKey {
				if k.Valid != harness.ValidFalse {
					require.NoFileExists(t, filepath.Join(out, "linear", k.Key+".html"))
					continue
				}
				html, err := os.ReadFile(filepath.Join(out, k.File))
				require.NoError(t, err, "visualization of %s", k.Key)
				require.Contains(t, string(html), "<html")
				if len(h.Nemesis()) > 0 {
					require.Contains(t, string(html), "nemesis partition")
					require.Contains(t, string(html), "nemesis kill")
				}
			}
		})
	}
}

// render prints a result as fixtures expect it: the verdict, the counts,
// and one line per key with the anomaly of a bad key below it.
func render(res harness.Result) string {
	d := res.Details.(*linearizable.Details)
	var b strings.Builder
	fmt.Fprintf(&b, "valid %s\nkeys %d ops %d dropped %d\n", res.Valid, d.Keys, d.Ops, d.Dropped)
	for _, k := range d.PerKey {
		fmt.Fprintf(&b, "%s %s ops=%d open=%d", k.Key, k.Valid, k.Ops, k.Open)
		if a := k.Anomaly; a != nil {
			fmt.Fprintf(&b, " linearized=%d state=%s", a.Linearized, a.State)
		}
		if k.File != "" {
			fmt.Fprintf(&b, " file=%s", k.File)
		}
		if k.Reason != "" {
			fmt.Fprintf(&b, " reason=%s", k.Reason)
		}
		b.WriteString("\n")
		if a := k.Anomaly; a != nil {
			fmt.Fprintf(&b, "  tail: %s\n  stuck: %s\n", joinRefs(a.Tail), joinRefs(a.Stuck))
		}
	}
	return b.String()
}

func joinRefs(refs []linearizable.OpRef) string {
	var s []string
	for _, r := range refs {
		s = append(s, r.String())
	}
	return strings.Join(s, "; ")
}
