package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/openlsc/openlsc/frontend/browsertest"
)

// screenshotsEnv names the directory that TestBrowserEveryPage saves a
// screenshot of each page the README shows into, per language and width
// (make screenshots).
const screenshotsEnv = "OPENLSC_SCREENSHOTS"

// pageVisit is one page of the tour: who looks at it, where, and the name
// its screenshot gets.
type pageVisit struct {
	name string // screenshot name, e.g. "licences"
	path string // path and query to open
	want string // the path the browser should land on, when not path
	// readme marks the pages whose screenshots the README shows (make
	// screenshots saves only these).
	readme bool
	phone  bool // the README shows it at phone width too
}

// personaTour is the pages one demo persona opens.
type personaTour struct {
	subject, email string // the persona at the development provider; "" for nobody
	lang           string // the page language at sign-in, which their mail is written in
	inherit        bool   // answer the inheritance question with "inherit"
	pages          []pageVisit
}

// tours visits every page of the web UI as the demo personas who may see it.
func tours() []personaTour {
	return []personaTour{
		{pages: []pageVisit{{readme: true, name: "home-anonymous", path: "/"}, {name: "signin", path: "/signin"}, {readme: true, name: "help", path: "/help#mak-limit", want: "/help"}}},
		{subject: "it-admin", email: "it-admin@contoso.example", lang: "en", inherit: true, pages: []pageVisit{
			{readme: true, phone: true, name: "home", path: "/"},
			{readme: true, phone: true, name: "licences", path: "/licences"},
			{readme: true, name: "licence", path: "/licences/M1000001"},
			{readme: true, name: "licence-users", path: "/licences/M1000001/users"},
			{readme: true, name: "keys", path: "/licences/E2000001/keys"},
			{name: "installations", path: "/licences/E2000001/keys/1/installations"},
			{readme: true, name: "telephone-activation", path: "/licences/E2000001/keys/1/telephone-activation"},
			{name: "verification-form", path: "/licences/E2000001/verification-form"},
			{readme: true, name: "downloads", path: "/downloads"},
			{name: "licence-summary", path: "/licence-summary?licence=E2000001&licence=S2000003", want: "/licence-summary"},
			{name: "permissions", path: "/permissions"},
			{name: "inheritance", path: "/inheritance"},
			{name: "my-requests", path: "/access-requests"},
			{name: "request-access", path: "/access-requests/new"},
			{name: "pending", path: "/access-requests/pending"},
			{readme: true, name: "audit", path: "/audit"},
			{name: "preferences", path: "/preferences"},
			{name: "work-email", path: "/account/work-email"},
			{name: "devmail", path: "/dev/mail"},
			{name: "help-signed-in", path: "/help"},
			{name: "tokens", path: "/account/tokens"},
		}},
		{subject: "staff", email: "staff@contoso.example", lang: "ja", pages: []pageVisit{
			{name: "home-staff", path: "/"},
			{name: "licences-none", path: "/licences"},
		}},
		{subject: "operator", email: "operator@openlsc.example", lang: "en", pages: []pageVisit{
			{readme: true, name: "operator", path: "/operator"},
			{name: "operator-import", path: "/operator/import"},
			{name: "activations", path: "/operator/activations"},
			{name: "operator-keys", path: "/operator/keys?licence=E2000001", want: "/operator/keys"},
			{name: "activation-counts", path: "/operator/activation-counts?licence=E2000001", want: "/operator/activation-counts"},
			{name: "leaked-keys", path: "/operator/leaked-keys"},
			{name: "operator-telephone-activation", path: "/operator/keys/1/telephone-activation?licence=E2000001", want: "/operator/keys/1/telephone-activation"},
			{name: "operator-installations", path: "/operator/keys/1/installations?licence=E2000001", want: "/operator/keys/1/installations"},
			{name: "audit-operator", path: "/audit"},
		}},
	}
}

// viewports are the widths every page is checked at: desktop and a phone.
var viewports = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"desktop", 1280, 900, false},
	{"phone", 390, 844, true},
}

// TestBrowserEveryPage opens every page of the web UI as the demo personas,
// in English and Japanese, at desktop and phone width, and checks on each:
// the page answers 200 without a console error or policy violation, nothing
// scrolls sideways (scrollWidth <= innerWidth) and axe-core reports no
// accessibility violation. With OPENLSC_SCREENSHOTS set it saves a
// screenshot of each page there (make screenshots).
func TestBrowserEveryPage(t *testing.T) {
	axe := browsertest.Axe(t)
	f, base := newBrowserFlow(t, 480*time.Second)
	shots := os.Getenv(screenshotsEnv)
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tour := range tours() {
		if tour.subject != "" {
			signInPersona(f, base, tour.subject, tour.email, tour.lang, tour.inherit)
		}
		for _, lang := range []string{"en", "ja"} {
			// The ?lang= link sets the language cookie and comes back.
			f.navigate("switch to "+lang, "/", chromedp.Navigate(base+"/?lang="+lang))
			for _, vp := range viewports {
				var opts []chromedp.EmulateViewportOption
				if vp.mobile {
					opts = append(opts, chromedp.EmulateMobile)
				}
				f.do("set the viewport", chromedp.EmulateViewport(vp.width, vp.height, opts...))
				for _, pv := range tour.pages {
					checkPage(f, base, pv, axe, lang, vp.name, shots)
				}
				if vp.mobile && tour.subject != "" {
					checkMenu(f, base)
				}
			}
		}
		if tour.subject != "" {
			f.do("reset the viewport", chromedp.EmulateViewport(1280, 900))
			f.navigate("open the home page", "/", chromedp.Navigate(base+"/"))
			f.navigate("sign out", "/", chromedp.Click(headerSignOutAny))
		}
	}
	f.problems.Check(t)
}

// checkMenu checks that on a phone the side navigation folds behind the
// Menu button, which opens it.
func checkMenu(f *browserFlow, base string) {
	f.t.Helper()
	f.navigate("open the home page on a phone", "/", chromedp.Navigate(base+"/"))
	const shown = `getComputedStyle(document.getElementById("sidenav")).display !== "none"`
	if f.eval(`String(`+shown+`)`) != "false" {
		f.fatalf("the side navigation shows on a phone before the Menu button is pressed")
	}
	f.do("press Menu", chromedp.Click(chromedp.CSS(`.menu-button`)))
	if f.eval(`String(`+shown+`)`) != "true" || f.eval(`document.querySelector(".menu-button").getAttribute("aria-expanded")`) != "true" {
		f.fatalf("the Menu button did not open the side navigation")
	}
}

// headerSignOutAny is the sign-out button in any language.
const headerSignOutAny = chromedp.CSS(`header form[action="/auth/logout"] button`)

// checkPage opens one page and checks width and accessibility.
func checkPage(f *browserFlow, base string, pv pageVisit, axe, lang, width, shots string) {
	f.t.Helper()
	want := pv.want
	if want == "" {
		want, _, _ = strings.Cut(pv.path, "?")
	}
	step := fmt.Sprintf("%s (%s, %s)", pv.path, lang, width)
	resp, err := chromedp.RunResponse(f.ctx, chromedp.Navigate(base+pv.path))
	if err != nil {
		f.fatalf("open %s: %v", step, err)
	}
	if resp.Status != 200 {
		f.fatalf("open %s: status %d", step, resp.Status)
	}
	if got := f.eval(`location.pathname`); got != want {
		f.fatalf("open %s: landed on %s", step, got)
	}
	if got := f.eval(`document.documentElement.lang`); got != lang {
		f.fatalf("%s: page language %q", step, got)
	}
	if over := f.eval(`String(document.documentElement.scrollWidth - window.innerWidth)`); over != "0" && !strings.HasPrefix(over, "-") {
		f.fatalf("%s scrolls sideways by %s px; widest elements: %s", step, over, f.eval(widestJS))
	}
	if v := axeViolations(f, axe); v != "" {
		f.fatalf("%s: axe-core violations:\n%s", step, v)
	}
	if shots != "" && pv.readme && (width == "desktop" || pv.phone) {
		f.screenshotTo(shots, fmt.Sprintf("%s-%s-%s", pv.name, lang, width))
	}
}

// widestJS names the elements that stick out of the viewport.
const widestJS = `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(-5).map(e => e.tagName + "." + e.className).join(", ")`

// axeViolations runs axe-core on the page and describes what it found, or
// returns "".
func axeViolations(f *browserFlow, axe string) string {
	f.t.Helper()
	if f.eval(`typeof window.axe`) != "object" {
		if _, err := chromedp.Run(f.ctx, chromedp.Evaluate[any](axe+";0")); err != nil {
			f.fatalf("inject axe-core: %v", err)
		}
	}
	out, err := chromedp.Run(f.ctx, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}))))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		f.fatalf("run axe-core: %v", err)
	}
	var vs []struct {
		ID, Help string
		Nodes    []string
	}
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		f.fatalf("axe-core result %q: %v", out, err)
	}
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "  %s: %s: %s\n", v.ID, v.Help, strings.Join(v.Nodes, "; "))
	}
	return b.String()
}

// screenshotTo saves what the window shows as dir/name.png.
func (f *browserFlow) screenshotTo(dir, name string) {
	f.t.Helper()
	png, err := chromedp.Run(f.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		f.fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		f.fatalf("screenshot %s: %v", name, err)
	}
}

// signInPersona signs in as a demo persona and confirms the work email
// through the development mailbox, answering the inheritance question
// when asked.
func signInPersona(f *browserFlow, base, subject, email, lang string, inherit bool) {
	f.t.Helper()
	f.navigate("open the sign-in page", "/signin", chromedp.Navigate(base+"/signin?lang="+lang))
	f.navigate("click the development provider", "/dev/oidc/login", chromedp.Click(chromedp.CSS(`.provider-list a`)))
	persona := chromedp.CSS(`button[name="subject"][value="` + subject + `"]`)
	f.do("find the persona "+subject, chromedp.WaitVisible(persona))
	f.navigate("pick "+subject, "/", chromedp.Click(persona))
	f.navigate("open the work email page", "/account/work-email", chromedp.Navigate(base+"/account/work-email"))
	f.do("type the work email", chromedp.Click(emailField), chromedp.SendKeys(emailField, email))
	f.navigate("send the confirmation link", "/account/work-email", chromedp.Click(chromedp.CSS(`form[action="/account/work-email"] button`)))
	first := chromedp.CSS(`table.devmail-list tbody tr:first-child a`)
	for {
		f.navigate("open the development mailbox", "/dev/mail", chromedp.Navigate(base+"/dev/mail"))
		if f.eval(`(document.querySelector("table.devmail-list tbody tr:first-child") || {innerText: ""}).innerText`) != "" &&
			strings.Contains(f.eval(`document.querySelector("table.devmail-list tbody tr:first-child").innerText`), email) {
			break
		}
		select {
		case <-f.ctx.Done():
			f.fatalf("no mail for %s reached the development mailbox: %v", email, f.ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	f.navigate("open the newest mail", f.eval(`new URL(document.querySelector("table.devmail-list tbody tr:first-child a").href).pathname`), chromedp.Click(first))
	// The first sign-in stored the page language as the user's: the
	// confirmation mail is written in it.
	japanese := f.eval(`String(/[\u3040-\u30ff]/.test(document.querySelector(".devmail-text").innerText))`)
	if want := fmt.Sprint(lang == "ja"); japanese != want {
		f.fatalf("mail to %s (signed in in %s): Japanese text %s, want %s", email, lang, japanese, want)
	}
	link, err := chromedp.Run(f.ctx, chromedp.AttributeValue(chromedp.CSS(`.devmail-links a[href*="/verify-email?"]`), "href"))
	if err != nil || !link.Exists {
		f.fatalf("no confirmation link in the mail to %s: %v", email, err)
	}
	if _, err := chromedp.RunResponse(f.ctx, chromedp.Navigate(link.Value)); err != nil {
		f.fatalf("follow the confirmation link: %v", err)
	}
	if _, err := chromedp.RunResponse(f.ctx, chromedp.Click(chromedp.CSS(`form[action="/verify-email"] button`))); err != nil {
		f.fatalf("confirm the work email: %v", err)
	}
	if f.eval(`location.pathname`) == "/inheritance" {
		answer := doNotInherit
		if inherit {
			answer = inheritButton
		}
		if _, err := chromedp.RunResponse(f.ctx, chromedp.Click(answer)); err != nil {
			f.fatalf("answer the inheritance question: %v", err)
		}
	}
}
