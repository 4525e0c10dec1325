package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserLicenceSummary signs in as Aiko Tanaka (it-admin), confirms
// her work email, inherits administration of MBSA M1000001's agreements,
// builds the licence summary of E2000001 and S2000003 from the demo
// orders by ticking both on the page, opens a row's orders and downloads
// the CSV and the spreadsheet in the page.
func TestBrowserLicenceSummary(t *testing.T) {
	f, base := newBrowserFlow(t, 40*time.Second)
	ctx, problems := f.ctx, f.problems

	f.navigate("open the sign-in page", "/signin", chromedp.Navigate(base+"/signin"))
	f.navigate("click the development provider", "/dev/oidc/login", chromedp.Click(providerButton))
	f.do("find the persona", chromedp.WaitVisible(personaButton))
	f.navigate("pick Aiko Tanaka", "/", chromedp.Click(personaButton))
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
	f.do("find Inherit", chromedp.WaitVisible(inheritButton))
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(inheritButton)); err != nil {
		f.fatalf("click Inherit: %v", err)
	}

	// The summary page, from the navigation; tick two agreements.
	f.navigate("open the licence summary", "/licence-summary", chromedp.Click(chromedp.CSS(`#sidenav a[href="/licence-summary"]`)))
	f.do("tick E2000001 and S2000003",
		chromedp.Click(chromedp.CSS(`input[name="licence"][value="E2000001"]`)),
		chromedp.Click(chromedp.CSS(`input[name="licence"][value="S2000003"]`)))
	f.navigate("show the summary", "/licence-summary", chromedp.Click(chromedp.CSS(`#summary-form button[type="submit"]`)))
	rows := f.eval(`Array.from(document.querySelectorAll("#summary-rows-table tbody tr"), r => Array.from(r.cells, c => c.innerText.trim()).slice(0, 5).join("|")).join("\n")`)
	for _, want := range []string{
		"E2000001|Windows Enterprise|Systems|540|540",                 // 500 and a true-up of 40
		"E2000001|Office LTSC Professional Plus|Applications|425|425", // 450 less a return of 25
		"S2000003|Windows Server|Servers|16|26",                       // 16 with SA, and 10 SA only
	} {
		if !strings.Contains(rows, want) {
			f.fatalf("the summary has no row %q:\n%s", want, rows)
		}
	}
	agreements := f.eval(`document.querySelector("#summary-agreements-table").innerText`)
	if !strings.Contains(agreements, "SA ends within 90 days") {
		f.fatalf("S2000003's SA (ends 2027-01-31) is not flagged:\n%s", agreements)
	}
	f.do("open the orders of the first row", chromedp.Click(chromedp.CSS(`#summary-rows-table tbody tr:first-child details summary`)))
	if open := f.eval(`String(document.querySelector("#summary-rows-table tbody tr:first-child details").open)`); open != "true" {
		f.fatalf("the orders did not open")
	}
	f.screenshot("licence-summary")

	// The exports, fetched by the page from its own links.
	csv, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch(document.getElementById("export-csv").href).then(r => r.text().then(t => r.headers.get("Content-Type") + "\n" + t))`,
		chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(csv, "text/csv") || !strings.Contains(csv, "E2000001,,Windows Enterprise,win-ent,systems,540,540") {
		f.fatalf("the CSV export answered %q, %v", csv, err)
	}
	x, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch(document.getElementById("export-xlsx").href).then(r => {
			if (r.status !== 200) throw new Error("status " + r.status);
			return r.arrayBuffer();
		}).then(b => String.fromCharCode(...new Uint8Array(b).slice(0, 2)))`, chromedp.EvalAwaitPromise))
	if err != nil || x != "PK" {
		f.fatalf("the spreadsheet export: %q %v", x, err)
	}
	problems.Check(t)
}
