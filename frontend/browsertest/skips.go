package browsertest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// skipped counts the tests of this test binary that were skipped for want
// of a browser or of axe-core. It is the package's only state: a test
// binary's own tally, read by Main when every test has run.
var skipped atomic.Int64

// axeHint tells how to install axe-core, for skip and failure messages.
const axeHint = "npm ci --prefix frontend/browsertest"

// Main runs the tests of a package with browser tests (call it from
// TestMain) and, when some were skipped because Chromium or axe-core is
// missing, says so loudly on stderr with how to install them, so that a
// green "ok" on a fresh machine does not hide untested pages. It returns
// the exit code for os.Exit.
func Main(m *testing.M) int {
	code := m.Run()
	if n := skipped.Load(); n > 0 {
		line := strings.Repeat("!", 72)
		fmt.Fprintf(os.Stderr, "\n%s\n!!! %d BROWSER TESTS WERE SKIPPED: the web pages were not tested in a browser.\n"+
			"!!! Install Chromium (%s)\n!!! and axe-core (%s), then run the tests again.\n%s\n\n", line, n, installHint, axeHint, line)
	}
	return code
}

// Axe returns the source of axe-core, pinned in this package's
// package.json and installed with npm ci into its node_modules. Without it
// the test is skipped (and counted, see Main), or fails when the CI
// variable is set.
func Axe(tb testing.TB) string {
	tb.Helper()
	_, self, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(self), "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("axe-core: %v (run: %s)", err, axeHint)
		}
		skipped.Add(1)
		tb.Skipf("browser test skipped: axe-core is not installed (%v); run: %s", err, axeHint)
	}
	return string(b)
}
