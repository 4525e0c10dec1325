package frontend

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/openlsc/openlsc/frontend/browsertest"
)

// contentSecurityPolicy is the policy the server sets on every page. The
// browser test applies it too, so that an inline script or style that the
// policy would block fails the test.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// TestBrowserHome opens the home page in a real browser, switches it to
// Japanese with the footer link, and checks that the stylesheet and the
// script load under the production Content-Security-Policy.
func TestBrowserHome(t *testing.T) {
	s := newTestServer(t, Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		s.engine.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	ctx := browsertest.New(t, 30*time.Second)
	// Collect what the browser reports as errors: CSP violations, failed
	// loads and script exceptions.
	problems := browsertest.Watch(t, ctx)
	// Ask for English whatever the machine's locale.
	browsertest.English(t, ctx)

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}

	if got, want := text("h1"), "OpenLSC Licensing Service Center"; got != want {
		t.Errorf("English heading = %q, want %q", got, want)
	}
	if got, want := eval(`document.documentElement.lang`), "en"; got != want {
		t.Errorf("lang = %q, want %q", got, want)
	}
	// app.css hides the skip link off-screen until it has focus, and app.js
	// marks the document; both only happen if the assets loaded.
	if got, want := eval(`getComputedStyle(document.querySelector(".skip-link")).position`), "absolute"; got != want {
		t.Errorf("skip link position = %q, want %q: app.css not applied", got, want)
	}
	if got, want := eval(`String(document.documentElement.classList.contains("js"))`), "true"; got != want {
		t.Errorf("html.js = %s, want %s: app.js not run", got, want)
	}
	// The first Tab reaches the skip link.
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	if got, want := eval(`document.activeElement.className`), "skip-link"; got != want {
		t.Errorf("focused element after Tab = %q, want %q", got, want)
	}

	// Switch to Japanese with the footer link.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[hreflang="ja"]`)),
		chromedp.WaitReady(chromedp.CSS(`html[lang="ja"]`)),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	); err != nil {
		t.Fatal(err)
	}
	if got, want := text("h1"), "OpenLSC ライセンス サービス センター"; got != want {
		t.Errorf("Japanese heading = %q, want %q", got, want)
	}
	if got, want := eval(`document.documentElement.lang`), "ja"; got != want {
		t.Errorf("lang = %q, want %q", got, want)
	}
	if got, want := eval(`location.pathname + location.search`), "/"; got != want {
		t.Errorf("location after switching = %q, want %q", got, want)
	}

	// The choice sticks: a fresh load of the page is still Japanese.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	if got, want := eval(`document.documentElement.lang`), "ja"; got != want {
		t.Errorf("lang after reload = %q, want %q", got, want)
	}

	problems.Check(t)
}
