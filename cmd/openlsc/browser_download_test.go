package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The elements of the downloads flow.
const (
	inheritButton = chromedp.Search(`//button[@name="inherit" and @value="1"]`)
	downloadsH1   = chromedp.CSS(`main h1`)
	firstFileForm = `table.download-files tbody tr:first-child form`
	firstFileSHA  = `table.download-files tbody tr:first-child code.sha256`
)

// sha256JS hashes an ArrayBuffer in the page and gives lower-case hex.
const sha256JS = `b => crypto.subtle.digest("SHA-256", b).then(d => Array.from(new Uint8Array(d), x => x.toString(16).padStart(2, "0")).join(""))`

// TestBrowserDownload signs in as Aiko Tanaka (it-admin), confirms her work
// email, inherits administration of MBSA M1000001's agreements (so
// E2000001's software is hers), opens the downloads page and downloads a
// demo file twice in the page, through the "Get download link" form (its
// 303 to the signed URL followed by fetch) and through the JSON API, and
// checks that the SHA-256 the browser computes is the one the page shows.
func TestBrowserDownload(t *testing.T) {
	f, base := newBrowserFlow(t, 40*time.Second)
	ctx, problems := f.ctx, f.problems

	// 1. Sign in as Aiko Tanaka through the development provider.
	f.navigate("open the sign-in page", "/signin", chromedp.Navigate(base+"/signin"))
	f.navigate("click the development provider", "/dev/oidc/login", chromedp.Click(providerButton))
	f.do("find the persona", chromedp.WaitVisible(personaButton))
	f.navigate("pick Aiko Tanaka", "/", chromedp.Click(personaButton))
	wantText(f, "header after signing in", signedIn, "Signed in as Aiko Tanaka")

	// 2. Register and confirm it-admin@contoso.example.
	f.navigate("open the work email page", "/account/work-email", chromedp.Navigate(base+"/account/work-email"))
	f.do("type the work email", chromedp.Click(emailField), chromedp.SendKeys(emailField, "it-admin@contoso.example"))
	f.navigate("send the confirmation link", "/account/work-email", chromedp.Click(sendLink))
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
	f.navigate("open the newest mail", f.eval(`new URL(document.querySelector("`+string(newestMail)+`").href).pathname`), chromedp.Click(newestMail))
	link, err := chromedp.Run(ctx, chromedp.AttributeValue(confirmationLink, "href"))
	if err != nil || !link.Exists {
		f.fatalf("no confirmation link in the mail: %v", err)
	}
	f.navigate("follow the confirmation link", "/verify-email", chromedp.Navigate(link.Value))
	f.navigate("click Confirm my work email", "/inheritance", chromedp.Click(confirmButton))

	// 3. Inherit: E2000001 under M1000001 becomes hers.
	f.do("find Inherit", chromedp.WaitVisible(inheritButton))
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(inheritButton)); err != nil {
		f.fatalf("click Inherit: %v", err)
	}

	// 4. The downloads page.
	f.navigate("open the downloads page", "/downloads", chromedp.Navigate(base+"/downloads"))
	wantText(f, "heading", downloadsH1, "Downloads")
	page := f.eval(`document.querySelector("main").innerText`)
	for _, want := range []string{"Windows Enterprise", "11 24H2", "Office LTSC Professional Plus", "Downgrade right", "Get download link"} {
		if !strings.Contains(page, want) {
			f.fatalf("the downloads page does not show %q:\n%s", want, page)
		}
	}
	f.screenshot("downloads")
	shown := f.eval(`document.querySelector("` + firstFileSHA + `").textContent.trim()`)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(shown) {
		f.fatalf("the page shows %q as the SHA-256", shown)
	}
	action := f.eval(`document.querySelector("` + firstFileForm + `").getAttribute("action")`)
	m := regexp.MustCompile(`^/downloads/(\d+)/link$`).FindStringSubmatch(action)
	if m == nil {
		f.fatalf("the first file's form posts to %q", action)
	}

	// 5. The form's answer is a redirect to the signed URL, which serves
	// the file: fetch follows it, as the browser does for the form.
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch(`+dlJSString(action)+`, {method: "POST"}).then(r => {
			if (!r.ok || !new URL(r.url).pathname.startsWith("/dl/")) throw new Error("form answered " + r.status + " at " + r.url);
			return r.arrayBuffer();
		}).then(`+sha256JS+`)`, chromedp.EvalAwaitPromise))
	if err != nil {
		f.fatalf("download through the form: %v", err)
	}
	if v != shown {
		f.fatalf("SHA-256 of the file downloaded through the form = %s, the page shows %s", v, shown)
	}

	// 6. The JSON API gives the signed URL; the file it serves hashes to
	// the SHA-256 on the page and in the answer.
	v, err = chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch("/api/v1/downloads/`+m[1]+`/link", {method: "POST"}).then(r => r.json()).then(l => {
			if (!l.url || !l.url.startsWith("/dl/")) throw new Error("no url: " + JSON.stringify(l));
			return fetch(l.url).then(r => {
				if (r.status !== 200 || r.headers.get("X-Content-SHA256") !== l.sha256) throw new Error("served " + r.status);
				return r.arrayBuffer();
			});
		}).then(`+sha256JS+`)`, chromedp.EvalAwaitPromise))
	if err != nil {
		f.fatalf("download through the API: %v", err)
	}
	if v != shown {
		f.fatalf("SHA-256 of the file downloaded through the API = %s, the page shows %s", v, shown)
	}

	// 7. Product keys of E2000001 (Aiko inherits its administration): the
	// list masks them; Reveal shows one whole key, once.
	f.navigate("open the keys of E2000001", "/licences/E2000001/keys", chromedp.Navigate(base+"/licences/E2000001/keys"))
	list := f.eval(`document.querySelector("main").innerText`)
	if !strings.Contains(list, "XXXXX-XXXXX") || regexp.MustCompile(`\b[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b`).FindString(strings.ReplaceAll(list, "XXXXX", "")) != "" {
		f.fatalf("the key list is not masked:\n%s", list)
	}
	// The POST answers 303: the browser lands on the keys page (a GET, so
	// reloading does not post again), and the key is not in its URL.
	f.navigate("click Reveal", "/licences/E2000001/keys", chromedp.Click(chromedp.CSS(`form[action$="/reveal"] button`)))
	key := f.eval(`document.getElementById("revealed-key").textContent.trim()`)
	if !regexp.MustCompile(`^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$`).MatchString(key) {
		f.fatalf("the revealed key is %q", key)
	}
	if strings.Contains(f.eval(`location.href`), key) {
		f.fatalf("the revealed key is in the URL %s", f.eval(`location.href`))
	}
	f.navigate("reload the page", "/licences/E2000001/keys", chromedp.Reload())
	if f.eval(`String(document.getElementById("revealed-key") === null)`) != "true" {
		f.fatalf("the revealed key shows again after a reload")
	}
	f.navigate("open the audit log", "/audit", chromedp.Navigate(base+"/audit?kind=key.reveal"))
	if n := f.eval(`String(document.querySelectorAll("table tbody tr").length)`); n != "1" {
		f.fatalf("%s key.reveal audit rows, want 1", n)
	}
	problems.Check(t)
}

// dlJSString quotes s as a JavaScript string literal (s has no quotes or
// backslashes: it is a path the page made).
func dlJSString(s string) string { return `"` + s + `"` }
