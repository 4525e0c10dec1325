package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// requestFlow adds the steps that several personas repeat to browserFlow.
type requestFlow struct {
	*browserFlow
	base string
}

// signIn signs in through the development provider as the persona whose
// button starts with name, and lands on the home page (or path).
func (f *requestFlow) signIn(name, path string) {
	f.t.Helper()
	f.navigate("open the home page", "/", chromedp.Navigate(f.base+"/"))
	f.do("find Sign in in the header", chromedp.WaitVisible(headerSignIn))
	f.navigate("click Sign in", "/signin", chromedp.Click(headerSignIn))
	f.navigate("click the development provider", "/dev/oidc/login", chromedp.Click(providerButton))
	persona := chromedp.Search(`//button[@name="subject" and starts-with(normalize-space(), "` + name + ` ")]`)
	f.do("find "+name, chromedp.WaitVisible(persona))
	f.navigate("pick "+name, path, chromedp.Click(persona))
	wantText(f.browserFlow, "header after signing in", signedIn, "Signed in as "+name)
}

// confirmWorkEmail registers email and follows the link of the mail that
// reaches the development mailbox, and presses the button; path is where
// that lands.
func (f *requestFlow) confirmWorkEmail(email, path string) {
	f.t.Helper()
	f.navigate("open the work email page", "/account/work-email", chromedp.Navigate(f.base+"/account/work-email"))
	f.do("type the work email", chromedp.Click(emailField), chromedp.SendKeys(emailField, email))
	f.navigate("send the confirmation link", "/account/work-email", chromedp.Click(sendLink))
	wantText(f.browserFlow, "after sending", sentHeading, "Check your inbox")
	newest := `//table[contains(@class, "devmail-list")]//tbody/tr[td[2][normalize-space()="` + email + `"]][1]//a`
	for {
		f.navigate("open the development mailbox", "/dev/mail", chromedp.Navigate(f.base+"/dev/mail"))
		if f.eval(`String(document.evaluate('count(`+newest+`)', document, null, XPathResult.NUMBER_TYPE, null).numberValue)`) != "0" {
			break
		}
		select {
		case <-f.ctx.Done():
			f.fatalf("no mail to %s reached the development mailbox: %v", email, f.ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	mail := chromedp.Search(newest)
	href, err := chromedp.Run(f.ctx, chromedp.AttributeValue(mail, "href"))
	if err != nil || !href.Exists {
		f.fatalf("no link to the mail to %s: %v", email, err)
	}
	f.navigate("open the mail to "+email, strings.SplitN(href.Value, "?", 2)[0], chromedp.Click(mail))
	link, err := chromedp.Run(f.ctx, chromedp.AttributeValue(confirmationLink, "href"))
	if err != nil || !link.Exists || !strings.HasPrefix(link.Value, f.base+"/verify-email?token=") {
		f.fatalf("no confirmation link in the mail to %s: %+v %v", email, link, err)
	}
	f.navigate("follow the confirmation link", "/verify-email", chromedp.Navigate(link.Value))
	f.navigate("click Confirm my work email", path, chromedp.Click(confirmButton))
}

// signOut signs out from the header.
func (f *requestFlow) signOut() {
	f.t.Helper()
	f.navigate("back to the home page", "/", chromedp.Navigate(f.base+"/"))
	f.navigate("click Sign out", "/", chromedp.Click(headerSignOut))
	wantText(f.browserFlow, "header after signing out", headerSignInAgain, "Sign in")
}

// wantVisible waits for an element that the XPath expression finds.
func (f *requestFlow) wantVisible(what, xpath string) {
	f.t.Helper()
	f.do(what, chromedp.WaitVisible(chromedp.Search(xpath)))
}

// TestBrowserAccessRequest runs an access request from end to end in a real
// browser, as the demo personas would: the MBSA administrator answers the
// inheritance question at her first sign-in ("Do not inherit"), the
// enrollment's administrator confirms his work email, a staff member
// requests two permissions on E2000001, the administrator approves one of
// them, and the staff member sees it under My permissions.
//
// The administrator must exist before the request (a licence without one
// answers "access request failed"), so the administrators sign in first.
func TestBrowserAccessRequest(t *testing.T) {
	bf, base := newBrowserFlow(t, 120*time.Second)
	ctx, problems, logs := bf.ctx, bf.problems, bf.logs
	f := &requestFlow{
		browserFlow: bf,
		base:        base,
	}
	start := time.Now()

	// 1. Aiko Tanaka administers MBSA M1000001: once her work email is
	// confirmed she is asked about inheritance, and does not inherit.
	f.signIn("Aiko Tanaka", "/")
	f.confirmWorkEmail("it-admin@contoso.example", "/inheritance")
	wantText(f.browserFlow, "inheritance heading", chromedp.CSS(`main h1`), "Administrator inheritance option")
	f.wantVisible("the explanation of Inherit", `//dd[normalize-space()="You become administrator of every agreement under this MBSA, including ones signed later."]`)
	f.screenshot("1-inheritance")
	doNotInherit := chromedp.Search(`//form[@action="/inheritance/M1000001"]//button[normalize-space()="Do not inherit"]`)
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(doNotInherit))
	if err != nil {
		f.fatalf("click Do not inherit: %v", err)
	}
	if resp.Status != 200 || f.eval(`location.pathname`) == "/inheritance" {
		f.fatalf("after Do not inherit: status %d at %s", resp.Status, f.eval(`location.href`))
	}
	f.navigate("open the preferences", "/preferences", chromedp.Navigate(base+"/preferences"))
	f.wantVisible("the choice under Preferences", `//table[contains(@class, "inheritance-list")]//tr[th[starts-with(normalize-space(), "M1000001")] and td[normalize-space()="Do not inherit"]]`)
	f.signOut()

	// 2. Kenji Sato, online administrator of E2000001, confirms his work
	// email and so becomes its administrator.
	f.signIn("Kenji Sato", "/")
	f.confirmWorkEmail("ea-admin@contoso.example", "/verify-email")
	f.signOut()

	// 3. Haruto Ito confirms his work email and requests Licensing info and
	// Downloads on E2000001.
	f.signIn("Haruto Ito", "/")
	f.confirmWorkEmail("staff@contoso.example", "/verify-email")
	f.navigate("open Request access", "/access-requests/new", chromedp.Navigate(base+"/access-requests/new"))
	wantText(f.browserFlow, "label of the License ID", chromedp.CSS(`label[for="license_number"]`), "License ID")
	f.do("fill in the request",
		chromedp.SetValue(chromedp.CSS(`#program`), "enterprise"),
		chromedp.Click(chromedp.CSS(`#license_number`)), chromedp.SendKeys(chromedp.CSS(`#license_number`), "E2000001"),
		chromedp.Click(chromedp.CSS(`label[for="perm-license_viewer"]`)),
		chromedp.Click(chromedp.CSS(`label[for="perm-download_manager"]`)),
		chromedp.Click(chromedp.CSS(`#comment`)), chromedp.SendKeys(chromedp.CSS(`#comment`), "Desktop team, Tokyo"))
	f.screenshot("3-request-form")
	f.navigate("submit the request", "/access-requests",
		chromedp.Click(chromedp.Search(`//form[@action="/access-requests/new"]//button[normalize-space()="Submit request"]`)))
	wantText(f.browserFlow, "notice after submitting", chromedp.CSS(`.notice-success p`),
		"Your request was sent to the licence's administrators. You will receive a mail when they decide.")
	f.wantVisible("the pending request", `//table[contains(@class, "request-list")]//tr[th[starts-with(normalize-space(), "E2000001")] and td[normalize-space()="Waiting for approval"]]`)
	f.signOut()

	// 4. Kenji Sato approves Licensing info only.
	f.signIn("Kenji Sato", "/")
	f.navigate("open the pending requests", "/access-requests/pending", chromedp.Navigate(base+"/access-requests/pending"))
	request := `//section[contains(@class, "pending-request")][.//h2[contains(., "E2000001") and contains(., "staff@contoso.example")]]`
	f.wantVisible("the request", request)
	f.wantVisible("the comment", request+`//dd[normalize-space()="Desktop team, Tokyo"]`)
	downloads := chromedp.Search(request + `//input[@type="checkbox" and @value="download_manager"]`)
	if got := f.eval(`String(document.evaluate('` + string(downloads) + `', document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue.checked)`); got != "true" {
		f.fatalf("Downloads is not ticked at first (checked = %s)", got)
	}
	f.do("untick Downloads", chromedp.Click(downloads))
	f.screenshot("4-approve-some")
	f.navigate("click Approve", "/access-requests/pending",
		chromedp.Click(chromedp.Search(request+`//form[contains(@action, "/approve")]//button[normalize-space()="Approve"]`)))
	wantText(f.browserFlow, "notice after approving", chromedp.CSS(`.notice-success p`), "The request was approved and the requester was informed.")
	f.signOut()

	// 5. Haruto Ito holds Licensing info on E2000001, given directly, and
	// not Downloads.
	f.signIn("Haruto Ito", "/")
	f.navigate("open My permissions", "/permissions", chromedp.Navigate(base+"/permissions"))
	f.wantVisible("Licensing info on E2000001", `//table[contains(@class, "permission-list")]//tr[th[normalize-space()="E2000001"] and td[normalize-space()="Licensing info"] and td[normalize-space()="Direct"]]`)
	if n := f.eval(`String(document.evaluate('count(//table[contains(@class, "permission-list")]//tr[th[normalize-space()="E2000001"] and td[normalize-space()="Downloads"]])', document, null, XPathResult.NUMBER_TYPE, null).numberValue)`); n != "0" {
		f.fatalf("Downloads on E2000001 was granted although it was unticked")
	}
	f.screenshot("5-permissions")
	f.navigate("open My access requests", "/access-requests", chromedp.Navigate(base+"/access-requests"))
	// Licensing info was approved, Downloads not: approved in part.
	f.wantVisible("the approved request", `//table[contains(@class, "request-list")]//tr[th[starts-with(normalize-space(), "E2000001")] and td[normalize-space()="Approved in part"]]`)

	t.Logf("flow took %v", time.Since(start).Round(time.Millisecond))
	problems.Check(t)
	if t.Failed() {
		t.Logf("screenshots: %s; server log:\n%s", strings.Join(f.taken, ", "), logs)
	}
}
