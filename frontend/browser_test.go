package frontend

// The helpers in this file start a real browser for tests. They have no
// dependency on the rest of the package, so that they can move to a shared
// test package.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserEnv names the variable that holds the path of the browser that
// the tests drive.
const browserEnv = "OPENLSC_CHROME"

// browserNames are the executables that findBrowser looks for on PATH, in
// order.
func browserNames() []string {
	return []string{"chromium", "chromium-browser", "google-chrome"}
}

// findBrowser returns the path of a Chromium-based browser: the value of
// OPENLSC_CHROME, or else the first of chromium, chromium-browser and
// google-chrome on PATH.
func findBrowser() (string, error) {
	if p := os.Getenv(browserEnv); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range browserNames() {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no browser found: set " + browserEnv + " or install one of chromium, chromium-browser, google-chrome")
}

// newBrowser starts a headless browser with a fresh profile for one test and
// returns a chromedp context for its first tab. The whole browser lives at
// most timeout; it is closed and its profile removed when the test ends.
//
// Without a browser the test is skipped, or fails when the CI variable is
// set, so that CI cannot silently skip browser tests.
func newBrowser(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	execPath, err := findBrowser()
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("browser test: %v", err)
		}
		tb.Skipf("browser test skipped: %v (Debian/Ubuntu: apt-get install chromium)", err)
	}
	profile, err := os.MkdirTemp("", "openlsc-browser-")
	if err != nil {
		tb.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
	}
	// The deadline bounds the whole browser, so a hung browser cannot hang
	// the test run.
	deadline, cancelDeadline := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	tb.Cleanup(func() {
		// Close the browser gracefully, wait for the process to end, then
		// remove the profile.
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			tb.Logf("closing the browser: %v", err)
		}
		cancelCtx()
		cancelAlloc()
		cancelDeadline()
		removeDir(tb, profile)
	})
	// Start the browser now, so that a failure to start reads as such.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start browser %s: %v", execPath, err)
	}
	return ctx
}

// removeDir removes dir, retrying for a moment because the browser's helper
// processes may still be writing to it after the browser has exited.
func removeDir(tb testing.TB, dir string) {
	var err error
	for range 20 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Logf("remove browser profile: %v", err)
}
