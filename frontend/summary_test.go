package frontend

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/xuri/excelize/v2"
)

func TestSummaryPage(t *testing.T) {
	env := newKeysPageEnv(t)
	q := func(n int64) *int64 { return &n }
	doc := &models.ImportDocument{Orders: []models.ImportOrder{
		{Agreement: "V1", Number: "PO-1", Date: "2026-01-10", Product: "win-ent", Quantity: q(120), LicenceType: "licence_sa", SAEnds: "2026-04-30", Pool: "systems"},
		{Agreement: "V1", Number: "PO-2", Date: "2026-02-10", Product: "win-ent", Quantity: q(-20), LicenceType: "licence_sa", SAEnds: "2026-04-30", Pool: "systems"},
		{Agreement: "V2", Number: "PO-3", Date: "2026-01-10", Product: "win-ent", Quantity: q(7), LicenceType: "licence", Pool: "systems"},
	}}
	if _, err := env.store.Import(context.Background(), doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "ja"} {
		rec := env.get(t, "/licence-summary?licence=V1", env.as("viewer"), "Accept-Language: "+lang)
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", lang, rec.Code, body)
		}
		mustContain(t, body, `name="licence" value="V1" checked`, "<td>100</td>", "PO-2", "-20", `href="/licence-summary/export.xlsx?licence=V1"`)
		mustNotContain(t, body, `value="V2"`, "PO-3")
		if lang == "en" {
			mustContain(t, body, "SA ends within 90 days", "Licence summary")
		} else {
			mustContain(t, body, "SA が 90 日以内に終了", "ライセンス概要")
		}
	}
	// Licences the user may not view answer like unknown ones.
	unknown := env.get(t, "/licence-summary?licence=NOPE", env.as("viewer"))
	if unknown.Code != http.StatusNotFound {
		t.Fatalf("unknown: %d", unknown.Code)
	}
	for _, c := range []struct{ who, target string }{
		{"viewer", "/licence-summary?licence=V2"},
		{"viewer", "/licence-summary?licence=V1&licence=V2"},
		{"reader", "/licence-summary?licence=V1"},
		{"stranger", "/licence-summary/export.csv?licence=V1"},
		{"downloader", "/licence-summary/export.xlsx?licence=V1"},
	} {
		if rec := env.get(t, c.target, env.as(c.who)); rec.Code != unknown.Code || rec.Body.String() != unknown.Body.String() {
			t.Errorf("%s %s: %d", c.who, c.target, rec.Code)
		}
	}
	rec := env.get(t, "/licence-summary/export.csv?licence=V1", env.as("admin"))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "V1,,Windows Enterprise,win-ent,systems,100,100,2026-04-30,true") {
		t.Errorf("CSV: %d %q", rec.Code, rec.Body.String())
	}
	rec = env.get(t, "/licence-summary/export.xlsx?licence=V1", env.as("admin"))
	x, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if rec.Code != http.StatusOK || err != nil {
		t.Fatalf("XLSX: %d %v", rec.Code, err)
	}
	defer x.Close()
	if v, _ := x.GetCellValue("Summary", "F2"); v != "100" {
		t.Errorf("Summary!F2 = %q", v)
	}
}

func TestOperatorKeysPage(t *testing.T) {
	env := newKeysPageEnv(t)
	for _, who := range []string{"admin", "reader", "viewer"} {
		if rec := env.get(t, "/operator/keys?licence=V1", env.as(who)); rec.Code != http.StatusForbidden {
			t.Errorf("%s opens the operators' key page: %d", who, rec.Code)
		}
		if rec := env.post(t, "/operator/keys/"+env.keyID(t, "WFP4D")+"/status", url.Values{"status": {"blocked"}, "reason": {"leaked"}}, env.as(who)); rec.Code != http.StatusForbidden {
			t.Errorf("%s blocks: %d", who, rec.Code)
		}
	}
	rec := env.get(t, "/operator/keys?licence=V1", env.as("operator"))
	if rec.Code != http.StatusOK {
		t.Fatalf("operator: %d", rec.Code)
	}
	mak := env.keyID(t, "WFP4D")
	mustContain(t, rec.Body.String(), `action="/operator/keys/`+mak+`/status"`, "XXXXX-XXXXX-XXXXX-XXXXX-WFP4D")
	mustNotContain(t, rec.Body.String(), pageKeyMAK)

	// Blocking without a reason is refused on the page.
	rec = env.post(t, "/operator/keys/"+mak+"/status", url.Values{"licence": {"V1"}, "status": {"blocked"}}, env.as("operator"))
	if rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("no reason: %d", rec.Code)
	}
	rec = env.post(t, "/operator/keys/"+mak+"/status", url.Values{"licence": {"V1"}, "status": {"blocked"}, "reason": {"leaked"},
		"note": {"Offered on an auction site."}, "replacement_key": {"N7QXR-2V8KD-PJ4WT-9HCMY-B3K6F"}}, env.as("operator"))
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "replacement=B3K6F") {
		t.Fatalf("block: %d %v", rec.Code, rec.Header())
	}
	rec = env.get(t, rec.Header().Get("Location"), env.as("operator"))
	mustContain(t, rec.Body.String(), "B3K6F", "Blocked")

	for _, lang := range []string{"en", "ja"} {
		rec = env.get(t, "/licences/V1/keys", env.as("reader"), "Accept-Language: "+lang)
		body := rec.Body.String()
		mustNotContain(t, body, `action="/licences/V1/keys/`+mak+`/reveal"`)
		if lang == "en" {
			mustContain(t, body, "Blocked", "Replaces XXXXX-XXXXX-XXXXX-XXXXX-WFP4D", "XXXXX-XXXXX-XXXXX-XXXXX-B3K6F")
		} else {
			mustContain(t, body, "ブロック済み", "XXXXX-XXXXX-XXXXX-XXXXX-WFP4D の代わり")
		}
	}
	if rec := env.post(t, "/licences/V1/keys/"+mak+"/reveal", url.Values{}, env.as("reader")); rec.Code != http.StatusConflict || strings.Contains(rec.Body.String(), pageKeyMAK) {
		t.Errorf("reveal blocked: %d", rec.Code)
	}
}

func TestKeysPageLimitReached(t *testing.T) {
	env := newKeysPageEnv(t)
	full := int64(500)
	doc := &models.ImportDocument{Keys: []models.ImportKey{{Agreement: "V1", Product: "win-ent", Type: "mak", Key: pageKeyMAK, ActivationLimit: &full, ActivationsUsed: &full}}}
	if _, err := env.store.Import(context.Background(), doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	rec := env.get(t, "/licences/V1/keys", env.as("reader"))
	mustContain(t, rec.Body.String(), "Limit reached (activation error 0xC004C020).", `href="/licences/V1/keys?suffix=WFP4D#activation-requests"`)
	rec = env.get(t, "/licences/V1/keys?suffix=WFP4D", env.as("reader"))
	mustContain(t, rec.Body.String(), `name="key_suffix" value="WFP4D"`)
}
