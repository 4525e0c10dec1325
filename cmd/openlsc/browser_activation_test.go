package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/frontend/browsertest"
)

// The demo MAKs of E2000001 the flow activates: Windows Enterprise (495
// of 500 used) and Office LTSC (120 of 500).
const (
	demoWinMAK    = "38JY4-KJHCK-YKP9W-RJ64B-WFP4D"
	demoOfficeMAK = "C9GK3-BPW7R-6BHDK-R4M3P-PRYD9"
)

// forwardedFor sends every request as if from client address ip, through
// a proxy the server trusts.
type forwardedFor string

func (ip forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", string(ip))
	return http.DefaultTransport.RoundTrip(r)
}

// computer is the identity of demo computer n.
func computer(n int) activation.Identity {
	return activation.NewIdentity(map[string]string{"board": fmt.Sprint("board-", n), "disk": fmt.Sprint("disk-", n), "mac": fmt.Sprint("mac-", n)})
}

// TestBrowserActivation drives the activation service's pages in a real
// browser, with the vendor's software played by the api/activation client:
// two computers activate a demo MAK online; Aiko Tanaka (administrator)
// sees them and the live count on the key's installations page, releases
// one through the confirmation (the count drops), and activates a third
// computer by telephone, whose confirmation ID the client verifies offline.
// Then a key activated from 26 networks is flagged: the operator finds it
// on the leaked keys page, blocks it with a replacement, and the software
// is refused with 0xC004C003. Every page passes axe-core, and a cross-site
// release is refused.
func TestBrowserActivation(t *testing.T) {
	axe := browsertest.Axe(t)
	f, base := newBrowserFlowWith(t, 150*time.Second, map[string]string{"OPENLSC_TRUSTED_PROXIES": "127.0.0.1"})
	ctx := f.ctx
	from := func(ip string) *activation.Client {
		return &activation.Client{BaseURL: base, HTTP: &http.Client{Transport: forwardedFor(ip)}}
	}
	for n, ip := range []string{"192.0.2.10", "2001:db8:7:1::10"} {
		if _, err := from(ip).Activate(ctx, demoWinMAK, "win-ent", computer(n)); err != nil {
			t.Fatalf("activate computer %d: %v", n, err)
		}
	}

	signInPersona(f, base, "it-admin", "it-admin@contoso.example", "en", true)
	f.navigate("open the keys page", "/licences/E2000001/keys", chromedp.Navigate(base+"/licences/E2000001/keys"))
	link := `a[aria-label="Installations and telephone activation of the key ending in WFP4D"]`
	page := f.eval(`new URL(document.querySelector('` + link + `').href).pathname`)
	f.navigate("open the installations", page, chromedp.Click(chromedp.CSS(link)))
	wantText(f, "the live count", chromedp.CSS(`#live-count strong`), "497 of 500 activations used")
	rows := f.eval(`document.querySelector("table[aria-labelledby=installations-heading] tbody").innerText`)
	if !strings.Contains(rows, "192.0.2.0/24") || !strings.Contains(rows, "2001:db8:7::/48") {
		f.fatalf("the installations do not show their networks:\n%s", rows)
	}
	checkAxe(f, axe, "installations")

	// A cross-site form post is refused before it reaches the page, even
	// with the session's cookies.
	release := `table[aria-labelledby=installations-heading] tbody tr:last-child a`
	confirmURL := f.eval(`document.querySelector("` + release + `").href`)
	crossSiteRelease(f, base, page+"/"+strings.TrimSuffix(strings.SplitN(confirmURL, "release=", 2)[1], "#confirm-heading")+"/release")

	f.navigate("click Release", page, chromedp.Click(chromedp.CSS(release)))
	if f.eval(`String(document.querySelector("section[aria-labelledby=confirm-heading]").contains(document.activeElement))`) != "true" {
		f.fatalf("the confirmation does not have the focus: %s", f.eval(`document.activeElement.outerHTML`))
	}
	checkAxe(f, axe, "release confirmation")
	f.screenshot("release-confirmation")
	f.navigate("confirm the release", page, chromedp.Click(chromedp.CSS(`section[aria-labelledby=confirm-heading] button`)))
	wantText(f, "the notice", chromedp.CSS(`.notice-success`), "The installation was released and its activation is free again.")
	wantText(f, "the live count after the release", chromedp.CSS(`#live-count strong`), "496 of 500 activations used")
	if n := f.eval(`String(document.querySelectorAll("table[aria-labelledby=installations-heading] tbody tr").length)`); n != "1" {
		f.fatalf("%s installations after the release, want 1", n)
	}

	// Telephone activation of a third computer.
	iid := activation.InstallationID(computer(3))
	f.navigate("open the telephone activation", page[:len(page)-len("installations")]+"telephone-activation", chromedp.Click(chromedp.Search(`//a[normalize-space()="Telephone activation"]`)))
	field := chromedp.CSS(`#installation_id`)
	f.do("type a wrong installation ID", chromedp.SendKeys(field, "12345 67890 1"))
	if resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form.form button[type=submit]`))); err != nil || resp.Status != http.StatusUnprocessableEntity {
		f.fatalf("a wrong installation ID: %v %v", resp, err)
	}
	wantText(f, "the error", chromedp.CSS(`#installation_id-error`), "This installation ID is not right: a digit is wrong or missing. Check every group with the person at the computer and try again.")
	if f.eval(`document.activeElement.id + "|" + document.activeElement.value`) != "installation_id|12345 67890 1" {
		f.fatalf("the field lost what was typed or the focus: %s", f.eval(`document.activeElement.outerHTML`))
	}
	checkAxe(f, axe, "telephone activation error")
	f.eval(`document.getElementById("installation_id").value = ""`)
	f.do("type the installation ID", chromedp.SendKeys(field, strings.ReplaceAll(iid, "-", " ")))
	f.navigate("get the confirmation ID", page[:len(page)-len("installations")]+"telephone-activation", chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)))
	cid := f.eval(`Array.from(document.querySelectorAll("#confirmation-id code"), c => c.innerText.trim()).join("-")`)
	ks, err := from("192.0.2.99").Keys(ctx)
	if err != nil {
		f.fatalf("fetch the published keys: %v", err)
	}
	if err := ks.CheckConfirmation(cid, "win-ent", iid); err != nil {
		f.fatalf("the confirmation ID %q does not verify: %v", cid, err)
	}
	if f.eval(`document.activeElement.id`) != "confirmation-heading" {
		f.fatalf("the confirmation ID does not have the focus")
	}
	checkAxe(f, axe, "telephone activation")
	f.screenshot("telephone-activation")
	f.navigate("back to the installations", page, chromedp.Click(chromedp.Search(`//a[normalize-space()="Back to the installations of this key"]`)))
	wantText(f, "the live count after the telephone activation", chromedp.CSS(`#live-count strong`), "497 of 500 activations used")
	f.navigate("sign out", "/", chromedp.Click(headerSignOutAny))

	// A key sold on: 26 networks activate the Office MAK.
	for n := range 26 {
		if _, err := from(fmt.Sprintf("198.51.%d.7", n)).Activate(ctx, demoOfficeMAK, "office-ltsc", computer(100+n)); err != nil {
			t.Fatalf("activate the Office key from network %d: %v", n, err)
		}
	}
	signInPersona(f, base, "operator", "operator@openlsc.example", "en", false)
	f.navigate("open the leaked keys", "/operator/leaked-keys", chromedp.Click(chromedp.CSS(`#sidenav a[href="/operator/leaked-keys"]`)))
	evidence := f.eval(`document.querySelector("#leaked-keys tbody tr").innerText`)
	if !strings.Contains(evidence, "PRYD9") || !strings.Contains(evidence, "26 networks, 26 installations in the window") || !strings.Contains(evidence, "First seen ") {
		f.fatalf("the leaked keys page shows:\n%s", evidence)
	}
	checkAxe(f, axe, "leaked keys")
	f.screenshot("leaked-keys")
	f.navigate("click Block and replace", "/operator/keys", chromedp.Click(chromedp.CSS(`#leaked-keys tbody tr a`)))
	form := `tr` + f.eval(`location.hash`) + ` form`
	f.do("block the key as leaked, with a replacement",
		chromedp.SetValue(chromedp.CSS(form+` select[name=status]`), "blocked"),
		chromedp.SetValue(chromedp.CSS(form+` select[name=reason]`), "leaked"),
		chromedp.SendKeys(chromedp.CSS(form+` input[name=replacement_key]`), "N7QXR-2V8KD-PJ4WT-9HCMY-B3K6F"))
	f.navigate("change the status", "/operator/keys", chromedp.Click(chromedp.CSS(form+` button`)))
	wantText(f, "the notice", chromedp.CSS(`.notice-success`), "The key ending in PRYD9 was changed and its replacement ending in B3K6F stored; the licence's administrators and key readers have been mailed.")
	f.navigate("back to the leaked keys", "/operator/leaked-keys", chromedp.Navigate(base+"/operator/leaked-keys"))
	wantText(f, "the status", chromedp.CSS(`#leaked-keys tbody tr th .badge`), "Blocked")
	var refused *activation.Error
	if _, err := from("203.0.113.5").Activate(ctx, demoOfficeMAK, "office-ltsc", computer(1)); !errors.As(err, &refused) || refused.HResult != "0xC004C003" {
		t.Errorf("the blocked key activates: %v", err)
	}
	// The wrong installation ID was answered 422, as meant.
	f.problems.Check(t, "status of 422 (Unprocessable Entity) ("+base+page[:len(page)-len("installations")]+"telephone-activation)")
}

// checkAxe fails the flow when axe-core finds a violation on the page.
func checkAxe(f *browserFlow, axe, what string) {
	f.t.Helper()
	if v := axeViolations(f, axe); v != "" {
		f.fatalf("%s: axe-core violations:\n%s", what, v)
	}
}

// crossSiteRelease posts the release of path with the browser's cookies
// but as another site would, and expects the server to refuse it.
func crossSiteRelease(f *browserFlow, base, path string) {
	f.t.Helper()
	cookies, err := chromedp.Call(f.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
	if err != nil {
		f.fatalf("read the cookies: %v", err)
	}
	req, err := http.NewRequestWithContext(f.ctx, http.MethodPost, base+path, strings.NewReader(url.Values{}.Encode()))
	if err != nil {
		f.fatalf("cross-site request: %v", err)
	}
	for _, c := range cookies.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://attacker.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.fatalf("cross-site release: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		f.fatalf("cross-site release of %s: %d, want 403", path, resp.StatusCode)
	}
}
