package api_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
	"github.com/xuri/excelize/v2"
)

// withSummaryData adds orders on V1 and V2 to env and makes admin a
// license_viewer of V2 too.
func withSummaryData(t *testing.T, env *keysEnv) {
	t.Helper()
	q := func(n int64) *int64 { return &n }
	doc := &models.ImportDocument{Orders: []models.ImportOrder{
		{Agreement: "V1", Number: "PO-1", Date: "2026-01-10", Product: "win-ent", Quantity: q(120), LicenceType: "licence_sa", SAEnds: "2027-12-31", Pool: "systems"},
		{Agreement: "V1", Number: "PO-2", Date: "2026-02-10", Product: "win-ent", Quantity: q(-20), LicenceType: "licence_sa", SAEnds: "2027-12-31", Pool: "systems"},
		{Agreement: "V2", Number: "PO-3", Date: "2026-01-10", Product: "win-ent", Quantity: q(7), LicenceType: "licence_sa", SAEnds: "2026-05-31", Pool: "systems"},
	}}
	ctx := context.Background()
	if _, err := env.store.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	v2 := env.lic["V2"]
	err := env.store.InTx(ctx, func(tx *models.Tx) error {
		return env.az.Grant(tx, models.Actor{Label: "system"}, env.users["admin"], &v2, models.PermLicenseViewer, models.SourceDirect)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSummaryAPI(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	env := newKeysEnv(t)
	withSummaryData(t, env)

	a := env.do("admin", http.MethodGet, "/api/v1/licences/V1/summary?also=V2", nil)
	if a.code != http.StatusOK {
		t.Fatalf("summary: %d %s", a.code, a.body)
	}
	var v app.SummaryView
	a.decode(t, &v)
	got := map[string][2]int64{}
	for _, r := range v.Rows {
		got[r.Agreement] = [2]int64{r.Quantity, r.SAQuantity}
	}
	if got["V1"] != [2]int64{100, 100} || got["V2"] != [2]int64{7, 7} || len(v.Products) != 1 || v.Products[0].Quantity != 107 {
		t.Errorf("summary %s", a.body)
	}
	if len(v.Agreements) != 2 || v.Agreements[1].Number != "V2" || !v.Agreements[1].Flagged || v.Agreements[0].Flagged {
		t.Errorf("agreements %+v", v.Agreements)
	}

	csvA := env.do("admin", http.MethodGet, "/api/v1/licences/V1/summary.csv?also=V2", nil)
	recs, err := csv.NewReader(strings.NewReader(csvA.body)).ReadAll()
	if csvA.code != http.StatusOK || err != nil || !strings.HasPrefix(csvA.header.Get("Content-Type"), "text/csv") || len(recs) != 3 {
		t.Fatalf("CSV: %d %v %s", csvA.code, err, csvA.body)
	}
	if recs[1][0] != "V1" || recs[1][5] != "100" || recs[2][0] != "V2" || recs[2][5] != "7" || recs[2][8] != "true" {
		t.Errorf("CSV rows %v", recs)
	}

	x := env.do("admin", http.MethodGet, "/api/v1/licences/V1/summary.xlsx?also=V2", nil)
	if x.code != http.StatusOK || x.header.Get("Content-Type") != api.XLSXType {
		t.Fatalf("XLSX: %d %s", x.code, x.header)
	}
	f, err := excelize.OpenReader(strings.NewReader(x.body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if q, _ := f.GetCellValue("Summary", "F2"); q != "100" {
		t.Errorf("Summary!F2 = %q", q)
	}
	if q, _ := f.GetCellValue("Orders", "I3"); q != "-20" {
		t.Errorf("Orders!I3 = %q, want the return", q)
	}

	// Nobody learns anything of a licence they may not view: each refusal
	// is the unknown-licence answer, byte for byte.
	unknown := env.do("admin", http.MethodGet, "/api/v1/licences/NOPE/summary", nil)
	if unknown.code != http.StatusNotFound {
		t.Fatalf("unknown: %d %s", unknown.code, unknown.body)
	}
	for _, c := range []struct{ who, path string }{
		{"stranger", "/api/v1/licences/V1/summary"},
		{"reader", "/api/v1/licences/V1/summary.csv"},
		{"downloader", "/api/v1/licences/V1/summary.xlsx"},
		{"viewer", "/api/v1/licences/V2/summary"},
		{"viewer", "/api/v1/licences/V1/summary?also=V2"},      // a viewer of V1 asking for V2 too
		{"viewer", "/api/v1/licences/V1/summary.xlsx?also=V2"}, // in any format
		{"viewer", "/api/v1/licences/V1/summary?also=NOPE"},
	} {
		a := env.do(c.who, http.MethodGet, c.path, nil)
		if a.code != unknown.code || a.body != unknown.body {
			t.Errorf("%s %s: %d %s, want the unknown-licence answer", c.who, c.path, a.code, a.body)
		}
	}
	if a := env.do("viewer", http.MethodGet, "/api/v1/licences/V1/summary", nil); a.code != http.StatusOK {
		t.Errorf("viewer of V1: %d %s", a.code, a.body)
	}
}

// TestKeyLifecycleAPI: an operator blocks a leaked MAK and issues its
// replacement through the API; the key reader sees both, cannot reveal
// the blocked key or ask for activations on it.
func TestKeyLifecycleAPI(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	env := newKeysEnv(t)
	mak := env.keyID("WFP4D")
	body := map[string]any{"status": "blocked", "reason": "leaked", "note": "Offered on an auction site.", "replacement_key": "N7QXR-2V8KD-PJ4WT-9HCMY-B3K6F"}
	for _, who := range []string{"admin", "reader", "stranger"} {
		if a := env.do(who, http.MethodPut, "/api/v1/operator/keys/"+mak+"/status", body); a.code != http.StatusForbidden {
			t.Errorf("%s: %d %s", who, a.code, a.body)
		}
	}
	if a := env.do("operator", http.MethodPut, "/api/v1/operator/keys/"+mak+"/status", map[string]any{"status": "blocked"}); a.code != http.StatusUnprocessableEntity {
		t.Errorf("no reason: %d %s", a.code, a.body)
	}
	a := env.do("operator", http.MethodPut, "/api/v1/operator/keys/"+mak+"/status", body)
	if a.code != http.StatusOK {
		t.Fatalf("block: %d %s", a.code, a.body)
	}
	var res app.KeyStatusResult
	a.decode(t, &res)
	if res.Key.Status != models.KeyBlocked || res.Replacement == nil || res.Replacement.Replaces != app.MaskKey("WFP4D") {
		t.Fatalf("block: %s", a.body)
	}
	if strings.Contains(a.body, "N7QXR") {
		t.Error("the answer carries the whole new key")
	}

	var list struct{ Keys []app.KeyView }
	env.do("reader", http.MethodGet, "/api/v1/licences/V1/keys", nil).decode(t, &list)
	seen := map[string]string{}
	for _, k := range list.Keys {
		seen[k.Suffix] = string(k.Status) + " " + k.Replaces
	}
	if seen["WFP4D"] != "blocked " || seen["B3K6F"] != "active "+app.MaskKey("WFP4D") {
		t.Errorf("the reader sees %v", seen)
	}
	if a := env.do("reader", http.MethodPost, "/api/v1/licences/V1/keys/"+mak+"/reveal", nil); a.code != http.StatusConflict || strings.Contains(a.body, apiKeyMAK) {
		t.Errorf("reveal blocked: %d %s", a.code, a.body)
	}
	if a := env.do("reader", http.MethodPost, "/api/v1/licences/V1/activation-requests", map[string]any{"key_suffix": "WFP4D", "quantity": 5}); a.code != http.StatusUnprocessableEntity {
		t.Errorf("activations for a blocked key: %d %s", a.code, a.body)
	}
	if a := env.do("operator", http.MethodPost, "/api/v1/operator/keys/"+mak+"/reveal", nil); a.code != http.StatusOK || !strings.Contains(a.body, apiKeyMAK) {
		t.Errorf("operator reveal: %d %s", a.code, a.body)
	}
	if a := env.do("operator", http.MethodGet, "/api/v1/operator/licences/V1/keys", nil); a.code != http.StatusOK || !strings.Contains(a.body, `"status":"blocked"`) {
		t.Errorf("operator list: %d %s", a.code, a.body)
	}
	if a := env.do("admin", http.MethodGet, "/api/v1/operator/licences/V1/keys", nil); a.code != http.StatusForbidden {
		t.Errorf("operator list as admin: %d %s", a.code, a.body)
	}
}
