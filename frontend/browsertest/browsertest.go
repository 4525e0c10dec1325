// Package browsertest starts headless Chromium for OpenLSC's browser tests.
//
// [New] starts a browser with a fresh profile for one test and returns a
// chromedp context for its first tab. [Watch] collects what the browser
// reports as problems (console errors, Content-Security-Policy violations,
// failed loads, uncaught exceptions), and [Problems.Check] fails the test on
// them. [English] asks for English pages whatever the machine's locale, and
// [Screenshot] saves the page for a failure message.
//
// The package holds no mutable state of its own: every test gets its own
// browser, profile and collector.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Env names the variable that holds the name or path of the browser that the
// tests drive.
const Env = "OPENLSC_CHROME"

// DefaultTimeout bounds the whole browser when New is given no timeout.
const DefaultTimeout = 30 * time.Second

// installHint tells how to get a browser, for the skip message.
const installHint = "Debian/Ubuntu: apt-get install chromium; or set " + Env + " to a Chromium-based browser"

// browserNames are the executables that Find looks for on PATH, in order.
func browserNames() []string {
	return []string{"chromium", "chromium-browser", "google-chrome"}
}

// Find returns the path of a Chromium-based browser: the value of
// OPENLSC_CHROME (a path, or a name looked up on PATH), or else the first of
// chromium, chromium-browser and google-chrome on PATH.
func Find() (string, error) {
	if p := os.Getenv(Env); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%s=%q: %w", Env, p, err)
		}
		return path, nil
	}
	for _, name := range browserNames() {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no browser found: set " + Env + " or install one of " + strings.Join(browserNames(), ", "))
}

// allocatorOptions are the flags the browser starts with. Without the
// background-networking flags Chromium keeps trying to reach Google's
// services, which a closed test network refuses.
func allocatorOptions(execPath, profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
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
}

// New starts a headless browser with a fresh profile for one test and returns
// a chromedp context for its first tab. The whole browser lives at most
// timeout (DefaultTimeout when timeout is zero or less), so that a hung
// browser cannot hang the test run; it is closed and its profile removed when
// the test ends.
//
// Without a browser the test is skipped, or fails when the CI variable is
// set, so that CI cannot silently skip browser tests.
func New(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	execPath, err := Find()
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("browser test: %v", err)
		}
		skipped.Add(1)
		tb.Skipf("browser test skipped: %v (%s)", err, installHint)
	}
	profile, err := os.MkdirTemp("", "openlsc-browser-")
	if err != nil {
		tb.Fatal(err)
	}
	deadline, cancelDeadline := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(deadline, allocatorOptions(execPath, profile)...)
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

// English makes the tab ask for English pages (Accept-Language: en-US, en),
// whatever the machine's locale.
func English(tb testing.TB, ctx context.Context) {
	tb.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		tb.Fatalf("enable network events: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "en-US,en;q=0.9"}}); err != nil {
		tb.Fatalf("set Accept-Language: %v", err)
	}
}

// Problems collects what a tab's browser reports as errors: console errors
// (console.error included), Content-Security-Policy violations and other
// security messages, failed loads, and uncaught exceptions. It is safe for
// concurrent use.
type Problems struct {
	mu   sync.Mutex
	list []string
}

// Watch starts collecting the problems of the tab of ctx; it fails the test if
// the browser refuses to report them.
func Watch(tb testing.TB, ctx context.Context) *Problems {
	tb.Helper()
	p := &Problems{}
	if err := chromedp.Listen(ctx, p.event); err != nil {
		tb.Fatalf("listen to the browser: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		tb.Fatalf("enable the browser log: %v", err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		tb.Fatalf("enable runtime events: %v", err)
	}
	return p
}

// event records one event of the tab if it is a problem. It runs in
// chromedp's event loop, so it only appends under the lock.
func (p *Problems) event(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Source == "security" {
			msg = string(ev.Entry.Source) + ": " + ev.Entry.Text
			if ev.Entry.URL != "" {
				msg += " (" + ev.Entry.URL + ")"
			}
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				switch {
				case a.Description != "":
					parts = append(parts, a.Description)
				case a.Type == runtime.RemoteObjectTypeString:
					var v string
					if json.Unmarshal(a.Value, &v) != nil {
						v = string(a.Value)
					}
					parts = append(parts, v)
				case len(a.Value) > 0:
					parts = append(parts, string(a.Value))
				default:
					parts = append(parts, string(a.Type))
				}
			}
			msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "exception: " + d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		if d.URL != "" {
			msg += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
		}
	}
	if msg == "" {
		return
	}
	p.mu.Lock()
	p.list = append(p.list, msg)
	p.mu.Unlock()
}

// List returns the problems reported so far, oldest first.
func (p *Problems) List() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.list...)
}

// Check fails the test with one error for each problem reported so far,
// except those that contain one of the strings in expected.
func (p *Problems) Check(tb testing.TB, expected ...string) {
	tb.Helper()
next:
	for _, msg := range p.List() {
		for _, e := range expected {
			if strings.Contains(msg, e) {
				continue next
			}
		}
		tb.Errorf("browser reported: %s", msg)
	}
}

// Screenshot saves a screenshot of the whole page of the tab of ctx as
// dir/name.png and returns the file's path. It returns "" and logs why when
// the browser cannot take one, so that it can be called on a failure path.
func Screenshot(tb testing.TB, ctx context.Context, dir, name string) string {
	tb.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.Logf("screenshot %s: %v", name, err)
		return ""
	}
	return path
}
