package main

// The web UI in a real headless browser: Debian's chromium, which
// `make test` installs. Without chromium this test fails; it never skips.

import (
	"bufio"
	"context"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium runs headless chromium with args and URL and returns stdout.
func chromium(t *testing.T, url string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	require.NoError(t, err, "the web UI test needs Debian's chromium: `make test` installs it (apt-get install chromium)")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), url)...)
	// Chromium forks helpers that inherit its output; on a timeout the
	// whole process group it leads is killed, and Wait stops waiting for
	// the pipes soon after, so a wedged browser fails the test instead of
	// hanging it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), "chromium %v: %s", args, errOut.String())
	return out.String()
}

// startServe runs `faultline serve` on a free port and returns its URL.
func startServe(t *testing.T, store string) string {
	t.Helper()
	cmd := exec.Command(faultlineBin, "serve", "--addr", "127.0.0.1:0", "--store", store)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	go io.Copy(io.Discard, stdout)
	_, url, ok := strings.Cut(strings.TrimSpace(line), " at ")
	require.True(t, ok, "serve must print its address, got %q", line)
	return url
}

// screenshot takes a screenshot of url, 1280 pixels wide and height tall,
// into path and decodes it.
func screenshot(t *testing.T, url, path string, height int) image.Image {
	t.Helper()
	chromium(t, url, "--screenshot="+path, "--window-size=1280,"+strconv.Itoa(height))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	return img
}

// countNear counts the pixels of img within 12 of the colour (r, g, b).
func countNear(img image.Image, r, g, b int) int {
	near := func(x uint32, want int) bool { d := int(x>>8) - want; return d > -12 && d < 12 }
	n := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if near(pr, r) && near(pg, g) && near(pb, b) {
				n++
			}
		}
	}
	return n
}

// TestServeInABrowser: chromium loads the index and a run page from
// `faultline serve` over a hand-made store. The index shows the verdicts,
// in their colours, and links to the runs; the run page shows its plots.
// The screenshots are saved in the store, and copied to the repository's
// store/screenshots for a person to look at.
func TestServeInABrowser(t *testing.T) {
	store := fakeStore(t)
	url := startServe(t, store)

	dom := chromium(t, url, "--dump-dom")
	assert.Contains(t, dom, `<span class="verdict invalid">INVALID</span>`)
	assert.Contains(t, dom, `<span class="verdict valid">VALID</span>`)
	assert.Contains(t, dom, `href="/run/`+invalidRun+`"`)
	assert.Contains(t, dom, "kvnode-register")

	index := screenshot(t, url, filepath.Join(store, "serve-index.png"), 900)
	assert.Equal(t, image.Pt(1280, 900), index.Bounds().Size())
	assert.Greater(t, countNear(index, 0xff, 0xeb, 0xe9), 300, "the INVALID badge is drawn in red")
	assert.Greater(t, countNear(index, 0xda, 0xfb, 0xe1), 300, "the VALID badge is drawn in green")

	runDOM := chromium(t, url+"run/"+invalidRun, "--dump-dom")
	assert.Contains(t, runDOM, "verdict   INVALID (exit 1)")
	assert.Equal(t, 3, strings.Count(runDOM, `<img src="/files/`+invalidRun+`/`), "three plots inline")
	run := screenshot(t, url+"run/"+invalidRun, filepath.Join(store, "serve-run.png"), 1800)
	assert.Equal(t, image.Pt(1280, 1800), run.Bounds().Size())
	// The plots' partition band, (244,199,195) at 69% over white, only
	// shows if chromium fetched and drew the PNGs.
	assert.Greater(t, countNear(run, 247, 216, 213), 2000, "the plots are drawn, with the fault shaded")

	keep := filepath.Join("..", "..", "store", "screenshots")
	if err := os.MkdirAll(keep, 0o755); err == nil {
		for _, name := range []string{"serve-index.png", "serve-run.png"} {
			if b, err := os.ReadFile(filepath.Join(store, name)); err == nil {
				_ = os.WriteFile(filepath.Join(keep, name), b, 0o644)
			}
		}
	}
}
