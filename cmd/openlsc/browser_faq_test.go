package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// englishWords finds, in a page's visible text, common English words that
// no Japanese page should show (names, numbers and product names pass).
const englishWords = `/\b(the|and|your|you|with|this|that|please|request|requests|access|licence|license id|sign in|sign out|not|there|here|failed)\b/i`

// wantJapanese checks that the page is in Japanese: its language, Japanese
// text in the main part, and no English sentence in header, navigation,
// main part or footer.
func wantJapanese(f *browserFlow, what string) {
	f.t.Helper()
	if lang := f.eval(`document.documentElement.lang`); lang != "ja" {
		f.fatalf("%s: page language %q, want ja", what, lang)
	}
	if f.eval(`String(/[\u3040-\u30ff\u4e00-\u9fff]/.test(document.querySelector("main").innerText))`) != "true" {
		f.fatalf("%s: no Japanese text in the main part", what)
	}
	// The data (table rows, codes) may be English: agreement and product
	// names are what the licence says, and program names are proper names.
	const uiText = `(() => { const b = document.body.cloneNode(true);
		b.querySelectorAll("tbody, code, pre, option, script, style, template").forEach(e => e.remove());
		return b.textContent.replace(/\s+/g, " "); })()`
	if m := f.eval(`(` + uiText + `.match(` + englishWords + `) || [""])[0]`); m != "" {
		f.fatalf("%s: English word %q on a Japanese page:\n%s", what, m, f.eval(uiText))
	}
}

// wantMailJapanese opens the newest mail to email in the development
// mailbox and checks that it is written in Japanese.
func wantMailJapanese(f *browserFlow, base, email, what string) {
	f.t.Helper()
	row := `//table[contains(@class, "devmail-list")]//tbody/tr[td[2][normalize-space()="` + email + `"]][1]//a`
	f.navigate("open the development mailbox", "/dev/mail", chromedp.Navigate(base+"/dev/mail"))
	href, err := chromedp.Run(f.ctx, chromedp.AttributeValue(chromedp.Search(row), "href"))
	if err != nil || !href.Exists {
		f.fatalf("%s: no mail to %s: %v", what, email, err)
	}
	f.navigate("open the mail to "+email, strings.SplitN(href.Value, "?", 2)[0], chromedp.Click(chromedp.Search(row)))
	text := f.eval(`document.querySelector(".devmail-text").innerText`)
	if !strings.ContainsAny(text, "のをにはがです") {
		f.fatalf("%s: the mail to %s is not in Japanese:\n%s", what, email, text)
	}
}

// signInAgain signs in a persona whose work email is confirmed already.
func signInAgain(f *browserFlow, base, subject string) {
	f.t.Helper()
	f.navigate("open the sign-in page", "/signin", chromedp.Navigate(base+"/signin"))
	f.navigate("click the development provider", "/dev/oidc/login", chromedp.Click(chromedp.CSS(`.provider-list a`)))
	persona := chromedp.CSS(`button[name="subject"][value="` + subject + `"]`)
	f.do("find the persona "+subject, chromedp.WaitVisible(persona))
	f.navigate("pick "+subject, "/", chromedp.Click(persona))
}

// signOutAny signs out from the header in any language.
func signOutAny(f *browserFlow, base string) {
	f.t.Helper()
	f.navigate("open the home page", "/", chromedp.Navigate(base+"/"))
	f.navigate("sign out", "/", chromedp.Click(headerSignOutAny))
}

// TestBrowserFAQJapanese walks the scenarios of the VLSC FAQ (questions 2
// to 9 of the Japanese scenario FAQ) in Japanese on a phone (390 px): sign
// in and confirm the work email, MBSA inheritance, adding a partner, a
// failed and a good access request, an Open License request with its
// authorization number, approval, downloads and product keys. Every page
// on the way is Japanese, and so is every mail.
func TestBrowserFAQJapanese(t *testing.T) {
	f, base := newBrowserFlow(t, 90*time.Second)
	start := time.Now()
	f.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	f.navigate("choose Japanese", "/", chromedp.Navigate(base+"/?lang=ja"))
	wantJapanese(f, "home page")

	// Q2, Q5: the MBSA's administrator signs in, confirms her work email
	// (the mail is Japanese) and inherits administration of the MBSA's
	// enrollments.
	signInPersona(f, base, "it-admin", "it-admin@contoso.example", "ja", true)
	f.navigate("open the licences", "/licences", chromedp.Navigate(base+"/licences"))
	wantJapanese(f, "licences after inheriting")
	if !strings.Contains(f.eval(`document.querySelector("main").innerText`), "E2000001") {
		f.fatalf("the inherited enrollment E2000001 is not listed")
	}

	// Q7: she adds the partner to E2000001 with licensing info.
	f.navigate("open the users of E2000001", "/licences/E2000001/users", chromedp.Navigate(base+"/licences/E2000001/users"))
	wantJapanese(f, "users of E2000001")
	f.do("fill in the new user",
		chromedp.Click(chromedp.CSS(`#add-email`)), chromedp.SendKeys(chromedp.CSS(`#add-email`), "partner@northwind.example"),
		chromedp.Click(chromedp.CSS(`#add-first`)), chromedp.SendKeys(chromedp.CSS(`#add-first`), "Sam"),
		chromedp.Click(chromedp.CSS(`#add-last`)), chromedp.SendKeys(chromedp.CSS(`#add-last`), "Carter"),
		chromedp.Click(chromedp.CSS(`label[for="add-perm-license_viewer"]`)))
	f.navigate("add the partner", "/licences/E2000001/users",
		chromedp.Click(chromedp.CSS(`form[method="post"][action="/licences/E2000001/users"] button[type="submit"]`)))
	wantJapanese(f, "after adding the partner")
	if !strings.Contains(f.eval(`document.querySelector("main").innerText`), "partner@northwind.example") {
		f.fatalf("the partner is not listed after adding")
	}
	wantMailJapanese(f, base, "partner@northwind.example", "invitation")
	signOutAny(f, base)

	// Q6: the Open License's contact confirms her work email and so
	// becomes its administrator (a licence without one answers every
	// request with "failed": contact support).
	signInPersona(f, base, "fabrikam-admin", "admin@fabrikam.example", "ja", false)
	signOutAny(f, base)

	// Q3, Q4, Q9: a staff member without a contact role signs in and sees
	// nothing yet; a request with a wrong License ID fails with the one
	// Japanese answer; the right one reaches the administrators.
	signInPersona(f, base, "staff", "staff@contoso.example", "ja", false)
	f.navigate("open Request access", "/access-requests/new", chromedp.Navigate(base+"/access-requests/new"))
	wantJapanese(f, "request form")
	request := func(program, number, auth string, perms ...string) {
		f.t.Helper()
		f.navigate("open Request access", "/access-requests/new", chromedp.Navigate(base+"/access-requests/new"))
		f.do("choose "+program, chromedp.SetValue(chromedp.CSS(`#program`), program),
			chromedp.Click(chromedp.CSS(`#license_number`)), chromedp.SendKeys(chromedp.CSS(`#license_number`), number))
		if auth != "" {
			f.do("type the authorization number", chromedp.Click(chromedp.CSS(`#authorization_number`)),
				chromedp.SendKeys(chromedp.CSS(`#authorization_number`), auth))
		}
		for _, p := range perms {
			f.do("tick "+p, chromedp.Click(chromedp.CSS(`label[for="perm-`+p+`"]`)))
		}
		if _, err := chromedp.RunResponse(f.ctx, chromedp.Click(chromedp.CSS(`form[action="/access-requests/new"] button[type="submit"]`))); err != nil {
			f.fatalf("submit the request for %s: %v", number, err)
		}
	}
	request("enterprise", "E9999999", "", "license_viewer")
	f.do("see the failure", chromedp.WaitVisible(chromedp.CSS(`#request-failed`)))
	wantJapanese(f, "failed request")
	request("enterprise", "E2000001", "", "license_viewer", "download_manager", "key_reader")
	if got := f.eval(`location.pathname`); got != "/access-requests" {
		f.fatalf("after a good request: at %s", got)
	}
	wantJapanese(f, "my access requests")

	// Q6: a request for the Open License names its authorization number.
	request("open_license", "V3000002", "87654321", "administrator")
	if got := f.eval(`location.pathname`); got != "/access-requests" {
		f.fatalf("after the Open License request: at %s", got)
	}
	if !strings.Contains(f.eval(`document.querySelector("main").innerText`), "V3000002") {
		f.fatalf("the Open License request is not listed")
	}
	signOutAny(f, base)

	// The enrollment's administrator approves; the requester's mail is
	// Japanese.
	signInPersona(f, base, "ea-admin", "ea-admin@contoso.example", "ja", false)
	f.navigate("open the pending requests", "/access-requests/pending", chromedp.Navigate(base+"/access-requests/pending"))
	wantJapanese(f, "pending requests")
	f.navigate("approve", "/access-requests/pending",
		chromedp.Click(chromedp.Search(`//section[contains(@class, "pending-request")][.//h2[contains(., "E2000001")]]//form[contains(@action, "/approve")]//button`)))
	wantJapanese(f, "after approving")
	wantMailJapanese(f, base, "staff@contoso.example", "approval")
	signOutAny(f, base)

	// Q8: the staff member downloads and sees the product keys.
	signInAgain(f, base, "staff")
	f.navigate("open Downloads", "/downloads", chromedp.Navigate(base+"/downloads"))
	wantJapanese(f, "downloads")
	f.navigate("open the keys of E2000001", "/licences/E2000001/keys", chromedp.Navigate(base+"/licences/E2000001/keys"))
	wantJapanese(f, "product keys")
	f.navigate("open My permissions", "/permissions", chromedp.Navigate(base+"/permissions"))
	wantJapanese(f, "my permissions")

	t.Logf("flow took %v", time.Since(start).Round(time.Millisecond))
	// The failed request is answered 422, as it should be.
	f.problems.Check(t, "status of 422 (Unprocessable Entity) ("+base+"/access-requests/new)")
	if t.Failed() {
		t.Logf("screenshots: %s; server log:\n%s", strings.Join(f.taken, ", "), f.logs)
	}
}
