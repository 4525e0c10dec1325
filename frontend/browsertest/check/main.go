// Command check says loudly, after `make test`, when the browser tests
// were skipped because Chromium or axe-core is missing, how many there
// are and how to install what they need. It prints nothing when both are
// there. Run it from the repository root.
package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/openlsc/openlsc/frontend/browsertest"
)

func main() {
	var missing []string
	if _, err := browsertest.Find(); err != nil {
		missing = append(missing, "Chromium: apt-get install chromium (or set "+browsertest.Env+" to a Chromium-based browser)")
	}
	if _, err := os.Stat(filepath.Join("frontend", "browsertest", "node_modules", "axe-core", "axe.min.js")); err != nil {
		missing = append(missing, "axe-core: npm ci --prefix frontend/browsertest")
	}
	if len(missing) == 0 {
		return
	}
	n, err := countBrowserTests(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "check:", err)
		os.Exit(2)
	}
	line := strings.Repeat("!", 72)
	fmt.Fprintf(os.Stderr, "\n%s\n!!! %d BROWSER TESTS WERE SKIPPED: no page was tested in a browser.\n", line, n)
	for _, m := range missing {
		fmt.Fprintf(os.Stderr, "!!! Install %s\n", m)
	}
	fmt.Fprintf(os.Stderr, "!!! then run make test again (CI fails instead of skipping).\n%s\n\n", line)
}

// countBrowserTests counts the functions named TestBrowser… in the Go test
// files under root.
func countBrowserTests(root string) (int, error) {
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "func TestBrowser") {
				n++
			}
		}
		return sc.Err()
	})
	return n, err
}
