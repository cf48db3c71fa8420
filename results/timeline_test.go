package results

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// TestTimelineShowsEveryOpAndFault: one column per process with the
// nemesis first, one box per op with its hover details, the fault bands
// labelled with the nodes they hit, and nothing fetched from the network.
func TestTimelineShowsEveryOpAndFault(t *testing.T) {
	h := syntheticHistory(2000, 4)
	var buf bytes.Buffer
	require.NoError(t, WriteTimeline(&buf, "etcd-register", h))
	page := buf.String()
	if dir := os.Getenv("FAULTLINE_PLOT_DIR"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, TimelineFile), buf.Bytes(), 0o644))
	}

	pairs := h.Pairs()
	assert.Equal(t, len(pairs), strings.Count(page, `<div class="op `), "one box per op")
	heads := regexp.MustCompile(`<div class="head"[^>]*>([^<]*)</div>`).FindAllStringSubmatch(page, -1)
	require.NotEmpty(t, heads)
	assert.Equal(t, "nemesis", heads[0][1], "the nemesis column comes first")
	processes := map[harness.Process]bool{}
	for _, p := range pairs {
		processes[p.Invoke.Process] = true
	}
	assert.Len(t, heads, len(processes), "one column per process")

	assert.Contains(t, page, "partition n1,n2 | n3,n4,n5")
	assert.Contains(t, page, "kill n3")
	assert.Contains(t, page, ">start-partition n1,n2 | n3,n4,n5<", "the nemesis box names the groups")
	assert.Equal(t, 2, strings.Count(page, `<div class="bandlabel"`), "one label per fault window")
	assert.Contains(t, page, `class="op info"`)
	assert.Contains(t, page, `class="op fail"`)
	assert.Contains(t, page, "error context deadline exceeded", "hover details carry the error")
	assert.Contains(t, page, "node n", "hover details carry the node")
	assert.NotRegexp(t, `(src|href)="?https?:`, page, "the page must be self-contained")
	assert.NotContains(t, page, "ZgotmplZ", "no value may be rejected by the template's escaping")
}

// TestTimelineEscapesValues: a value or error with markup in it is shown,
// not executed.
func TestTimelineEscapesValues(t *testing.T) {
	h := harness.History{
		{Index: 0, Process: 0, Type: harness.Invoke, F: "write", Key: "<b>k</b>", Value: json.RawMessage(`"<script>alert(1)</script>"`)},
		{Index: 1, Process: 0, Type: harness.Info, F: "write", Key: "<b>k</b>", Time: 5 * time.Millisecond, Error: `"><img src=x onerror=alert(1)>`},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteTimeline(&buf, "<i>t</i>", h))
	page := buf.String()
	assert.NotContains(t, page, "<script>alert")
	assert.NotContains(t, page, "<img src=x")
	assert.NotContains(t, page, "<i>t</i>")
	assert.Contains(t, page, "&lt;i&gt;t&lt;/i&gt;")
}

// TestTimelineIsCutAtItsLimit: a huge history draws only its first
// MaxTimelineOps ops and says so.
func TestTimelineIsCutAtItsLimit(t *testing.T) {
	var h harness.History
	for i := 0; i < MaxTimelineOps+10; i++ {
		at := time.Duration(i) * time.Millisecond
		h = append(h,
			harness.Op{Index: 2 * i, Process: 0, Type: harness.Invoke, F: "read", Time: at},
			harness.Op{Index: 2*i + 1, Process: 0, Type: harness.OK, F: "read", Time: at + time.Microsecond, Value: json.RawMessage("null")})
	}
	page := layoutTimeline("big", h)
	assert.Equal(t, MaxTimelineOps, page.Shown)
	assert.Equal(t, MaxTimelineOps+10, page.Total)
	assert.Len(t, page.Boxes, MaxTimelineOps)
	assert.LessOrEqual(t, page.Height, timelineMaxPixel+40)
}
