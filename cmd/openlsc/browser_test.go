package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/openlsc/openlsc/frontend/browsertest"
	"github.com/openlsc/openlsc/models/modelstest"
)

// browserFlow drives one tab through the pages of a running server, and
// fails with everything that helps to see why: the step, the page's address,
// a screenshot, what the browser reported and the server's log.
type browserFlow struct {
	t        *testing.T
	browser  context.Context // the tab, bounded only by the browser's life
	ctx      context.Context // the tab, bounded by the flow's timeout
	shots    string          // screenshots go here
	logs     *syncBuffer
	problems *browsertest.Problems
	taken    []string // screenshots taken so far
}

// fatalf ends the test with the step's error and the state of the browser.
func (f *browserFlow) fatalf(format string, args ...any) {
	f.t.Helper()
	// The flow's context may be what ran out, so look at the page with a
	// fresh, short one.
	ctx, cancel := context.WithTimeout(f.browser, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		loc = "(unknown: " + err.Error() + ")"
	}
	shot := browsertest.Screenshot(f.t, ctx, f.shots, "failure")
	var b strings.Builder
	fmt.Fprintf(&b, format, args...)
	fmt.Fprintf(&b, "\npage: %s\nscreenshot of the failure: %s", loc, shot)
	if len(f.taken) > 0 {
		fmt.Fprintf(&b, "\nearlier screenshots: %s", strings.Join(f.taken, ", "))
	}
	for _, p := range f.problems.List() {
		fmt.Fprintf(&b, "\nbrowser reported: %s", p)
	}
	fmt.Fprintf(&b, "\nserver log:\n%s", f.logs)
	f.t.Fatal(b.String())
}

// do runs actions that do not leave the page.
func (f *browserFlow) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	f.t.Helper()
	if err := chromedp.Do(f.ctx, actions...); err != nil {
		f.fatalf("%s: %v", step, err)
	}
}

// navigate runs actions that load a new page (a click on a link or a submit
// button, or a navigation), waits until the page has loaded and checks that it
// answered 200 at path.
func (f *browserFlow) navigate(step, path string, actions ...chromedp.Action[chromedp.Void]) {
	f.t.Helper()
	resp, err := chromedp.RunResponse(f.ctx, actions...)
	if err != nil {
		f.fatalf("%s: %v", step, err)
	}
	if resp.Status != 200 {
		f.fatalf("%s: status %d %s for %s", step, resp.Status, resp.StatusText, resp.URL)
	}
	if got := f.eval(`location.pathname`); got != path {
		f.fatalf("%s: landed on %s, want %s", step, got, path)
	}
}

// wantText checks the visible text, with white space collapsed, of the first
// element sel matches, waiting for it to show.
func wantText[S chromedp.Selectable](f *browserFlow, what string, sel S, want string) {
	f.t.Helper()
	s, err := chromedp.Run(f.ctx, chromedp.Text(sel))
	if err != nil {
		f.fatalf("%s: text of %v: %v", what, sel, err)
	}
	if got := strings.Join(strings.Fields(s), " "); got != want {
		f.fatalf("%s = %q, want %q", what, got, want)
	}
}

func (f *browserFlow) eval(expr string) string {
	f.t.Helper()
	v, err := chromedp.Run(f.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		f.fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// screenshot keeps a picture of the page for a later failure message.
func (f *browserFlow) screenshot(name string) {
	f.t.Helper()
	if p := browsertest.Screenshot(f.t, f.ctx, f.shots, name); p != "" {
		f.taken = append(f.taken, p)
	}
}

// The elements the flow clicks and reads. The XPath ones find links and
// buttons by the text a person reads.
const (
	headerSignIn      = chromedp.Search(`//header//a[normalize-space()="Sign in"]`)
	providerButton    = chromedp.Search(`//ul[@class="provider-list"]//a[normalize-space()="Sign in with Development sign-in (demo personas)"]`)
	personaButton     = chromedp.Search(`//button[@name="subject" and starts-with(normalize-space(), "Aiko Tanaka ")]`)
	signedIn          = chromedp.CSS(`header .signed-in`)
	verifyBanner      = chromedp.CSS(`.verify-banner`)
	verifyBannerLink  = chromedp.Search(`//p[contains(@class, "verify-banner")]/a[normalize-space()="Confirm work email"]`)
	emailLabel        = chromedp.CSS(`label[for="email"]`)
	emailField        = chromedp.CSS(`#email`)
	sendLink          = chromedp.Search(`//form[@action="/account/work-email"]//button[normalize-space()="Send confirmation link"]`)
	sentHeading       = chromedp.CSS(`.notice-success h2`)
	newestMail        = chromedp.CSS(`table.devmail-list tbody tr:first-child a`)
	newestRecipient   = chromedp.CSS(`table.devmail-list tbody tr:first-child td:nth-child(2)`)
	confirmationLink  = chromedp.Search(`//section[@aria-labelledby="links-heading"]//ul[@class="devmail-links"]//a[contains(@href, "/verify-email?")]`)
	confirmButton     = chromedp.Search(`//form[@action="/verify-email"]//button[normalize-space()="Confirm my work email"]`)
	doNotInherit      = chromedp.Search(`//button[@name="inherit" and @value="0"]`)
	headerSignOut     = chromedp.Search(`//header//form[@action="/auth/logout"]/button[normalize-space()="Sign out"]`)
	headerSignInAgain = chromedp.CSS(`header .account-box a[href="/signin"]`)
)

// TestBrowserSignInConfirmWorkEmail does what TestServeDev does with an HTTP
// client, in a real browser, as a person would: sign in through the
// development OpenID provider as a demo persona, register and confirm the
// work email through the development mailbox, see the agreement it gives
// access to, and sign out. Every page runs under the server's own
// Content-Security-Policy, and any console error or policy violation fails
// the test.
func TestBrowserSignInConfirmWorkEmail(t *testing.T) {
	f, base := newBrowserFlow(t, 30*time.Second)
	ctx, problems, logs := f.ctx, f.problems, f.logs
	start := time.Now()

	// 1. The home page, then the sign-in page, then the provider.
	f.navigate("open the home page", "/", chromedp.Navigate(base+"/"))
	if got := f.eval(`document.documentElement.lang`); got != "en" {
		f.fatalf("home page language = %q, want en", got)
	}
	f.do("find Sign in in the header", chromedp.WaitVisible(headerSignIn))
	f.navigate("click Sign in", "/signin", chromedp.Click(headerSignIn))
	f.navigate("click the development provider", "/dev/oidc/login", chromedp.Click(providerButton))

	// 2. The persona picker: sign in as Aiko Tanaka, and land back on the
	// home page, signed in, asked to confirm the work email.
	f.do("find the persona", chromedp.WaitVisible(personaButton))
	if v, err := chromedp.Run(ctx, chromedp.AttributeValue(personaButton, "value")); err != nil || v.Value != "it-admin" {
		f.fatalf("Aiko Tanaka's button has the subject %+v (%v), want it-admin", v, err)
	}
	f.navigate("pick Aiko Tanaka", "/", chromedp.Click(personaButton))
	wantText(f, "header after signing in", signedIn, "Signed in as Aiko Tanaka")
	wantText(f, "banner", verifyBanner, "Confirm your work email to see your licences. Confirm work email")

	// 3. Register the work email from the banner's link.
	f.navigate("follow the banner's link", "/account/work-email", chromedp.Click(verifyBannerLink))
	wantText(f, "label of the email field", emailLabel, "Work email address")
	f.do("type the work email", chromedp.Click(emailField), chromedp.SendKeys(emailField, "it-admin@contoso.example"))
	f.navigate("send the confirmation link", "/account/work-email", chromedp.Click(sendLink))
	wantText(f, "after sending", sentHeading, "Check your inbox")
	f.screenshot("3-work-email-sent")

	// 4. The development mailbox: the worker sends the mail in the
	// background, so reload the list until it shows, as a person would.
	for {
		f.navigate("open the development mailbox", "/dev/mail", chromedp.Navigate(base+"/dev/mail"))
		if f.eval(`String(document.querySelectorAll("table.devmail-list tbody a").length)`) != "0" {
			break
		}
		select {
		case <-ctx.Done():
			f.fatalf("no mail reached the development mailbox: %v", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	wantText(f, "recipient of the newest mail", newestRecipient, "it-admin@contoso.example")
	f.navigate("open the newest mail", f.eval(`new URL(document.querySelector("`+string(newestMail)+`").href).pathname`), chromedp.Click(newestMail))
	link, err := chromedp.Run(ctx, chromedp.AttributeValue(confirmationLink, "href"))
	if err != nil || !link.Exists {
		f.fatalf("no confirmation link in the mail's list of links: %v", err)
	}
	if !strings.HasPrefix(link.Value, base+"/verify-email?token=") {
		f.fatalf("confirmation link %q does not lead to %s/verify-email", link.Value, base)
	}
	f.navigate("follow the confirmation link", "/verify-email", chromedp.Navigate(link.Value))
	// Confirming makes Aiko administrator of MBSA M1000001, so she is asked
	// about inheritance first, then shown her licences.
	f.navigate("click Confirm my work email", "/inheritance", chromedp.Click(confirmButton))
	f.screenshot("4-inheritance-question")
	f.navigate("click Do not inherit", "/licences", chromedp.Click(doNotInherit))
	if tree := f.eval(`document.querySelector("main").innerText`); !strings.Contains(tree, "M1000001") || !strings.Contains(tree, "V4000004") {
		f.fatalf("licences after confirming: %q", tree)
	}

	// 5. The API now shows the agreement that names the work email.
	f.navigate("open /api/v1/me", "/api/v1/me", chromedp.Navigate(base+"/api/v1/me"))
	me := f.eval(`document.body.innerText`)
	for _, want := range []string{"M1000001", `"work_email_verified":true`} {
		if !strings.Contains(me, want) {
			f.fatalf("/api/v1/me does not contain %s:\n%s", want, me)
		}
	}

	// 6. Sign out from the header.
	f.navigate("back to the home page", "/", chromedp.Navigate(base+"/"))
	wantText(f, "header before signing out", signedIn, "Signed in as Aiko Tanaka")
	f.navigate("click Sign out", "/", chromedp.Click(headerSignOut))
	wantText(f, "header after signing out", headerSignInAgain, "Sign in")
	if n := f.eval(`String(document.querySelectorAll("header .signed-in").length)`); n != "0" {
		f.fatalf("the header still says who is signed in")
	}

	t.Logf("flow took %v", time.Since(start).Round(time.Millisecond))
	// No console error, failed load or CSP violation on any page, the
	// development provider's persona picker included.
	problems.Check(t)
	if t.Failed() {
		t.Logf("screenshots: %s; server log:\n%s", strings.Join(f.taken, ", "), logs)
	}
}

// newBrowserFlow starts `openlsc serve --dev` on a fresh database and a
// headless Chromium for a flow that may take up to timeout. Screenshots
// outlive a failing test, so that the paths in its messages lead
// somewhere; a passing test removes them. The browser closes before the
// server shuts down.
func newBrowserFlow(t *testing.T, timeout time.Duration) (*browserFlow, string) {
	t.Helper()
	return newBrowserFlowWith(t, timeout, nil)
}

// newBrowserFlowWith is newBrowserFlow with the server's settings extra
// added to the ones every flow gets.
func newBrowserFlowWith(t *testing.T, timeout time.Duration, extra map[string]string) (*browserFlow, string) {
	t.Helper()
	vars := map[string]string{
		"OPENLSC_DATABASE_URL": modelstest.URL(t),
		"OPENLSC_STORAGE_DIR":  filepath.Join(t.TempDir(), "files"),
		"OPENLSC_SECRET_KEY":   modelstest.Secret,
	}
	maps.Copy(vars, extra)
	base, logs := testServer(t, vars, "--dev")
	shots, err := os.MkdirTemp("", "openlsc-browser-shots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("screenshots kept in %s", shots)
			return
		}
		_ = os.RemoveAll(shots)
	})
	// The browser lives a little longer than the flow, so that a timed-out
	// flow can still be photographed.
	browser := browsertest.New(t, timeout+30*time.Second)
	problems := browsertest.Watch(t, browser)
	browsertest.English(t, browser)
	ctx, cancel := context.WithTimeout(browser, timeout)
	t.Cleanup(cancel)
	return &browserFlow{t: t, browser: browser, ctx: ctx, shots: shots, logs: logs, problems: problems}, base
}
