package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"testing"
	"time"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
	"github.com/xuri/excelize/v2"
)

// summaryDoc is an MBSA with two enrollments and an Open Value agreement,
// with orders including a return, SA-only lines, an SA that has ended and
// one that ends within 90 days of t0 (2026-03-14).
func summaryDoc() *models.ImportDocument {
	q := func(n int64) *int64 { return &n }
	return &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{
			{Program: "mbsa", Number: "M1", Organization: "C1"},
			{Program: "enterprise", Number: "E1", Organization: "C1", Parent: "M1", Starts: "2025-01-01", Ends: "2028-12-31"},
			{Program: "enterprise", Number: "E2", Organization: "C1", Parent: "M1", Starts: "2023-05-01", Ends: "2026-05-01"},
			{Program: "open_value", Number: "V9", Organization: "C1", Starts: "2022-01-01", Ends: "2025-12-31"},
		},
		Products: []models.ImportProduct{
			{ID: "office", Name: "Office LTSC Professional Plus", Versions: []models.ImportVersion{{Version: "2024"}}},
			{ID: "win", Name: "Windows Enterprise", Versions: []models.ImportVersion{{Version: "11", Edition: "Enterprise"}}},
			{ID: "sql", Name: "SQL Server Standard", Versions: []models.ImportVersion{{Version: "2022"}}},
		},
		Orders: []models.ImportOrder{
			{Agreement: "E1", Number: "PO-1", Date: "2026-01-10", Product: "office", Version: "2024", Quantity: q(100), LicenceType: "licence_sa", SAEnds: "2028-12-31", Pool: "applications"},
			{Agreement: "E1", Number: "PO-2", Date: "2026-02-01", Product: "office", Version: "2024", Quantity: q(-10), LicenceType: "licence_sa", SAEnds: "2028-12-31", Pool: "applications"},
			{Agreement: "E1", Number: "PO-3", Date: "2026-02-01", Product: "win", Quantity: q(50), LicenceType: "sa", SAEnds: "2028-12-31", Pool: "systems"},
			{Agreement: "E1", Number: "PO-4", Date: "2026-02-02", Product: "win", Version: "11", Edition: "Enterprise", Quantity: q(30), LicenceType: "licence", Pool: "systems"},
			{Agreement: "E1", Number: "PO-5", Date: "2025-01-01", Product: "sql", Quantity: q(8), LicenceType: "licence_sa", SAEnds: "2026-01-31", Pool: "servers"},
			{Agreement: "E2", Number: "PO-6", Date: "2026-01-01", Product: "office", Quantity: q(20), LicenceType: "subscription", Pool: "applications"},
			{Agreement: "E2", Number: "PO-7", Date: "2023-06-01", Product: "sql", Quantity: q(4), LicenceType: "licence_sa", SAEnds: "2026-04-30", Pool: "servers"},
			{Agreement: "V9", Number: "PO-8", Date: "2022-02-01", Product: "office", Quantity: q(5), LicenceType: "licence", Pool: "applications"},
		},
	}
}

type summaryFixture struct {
	t       *testing.T
	ctx     context.Context
	store   *models.Store
	summary *app.Summary
	users   map[string]int64
}

// newSummaryFixture imports summaryDoc and gives: "all" view on M1, E1, E2
// and V9; "mbsa" view on M1 and E1 only; "other" view on V9 only;
// "reader" key_reader on E1; "stranger" nothing.
func newSummaryFixture(t *testing.T) *summaryFixture {
	t.Helper()
	f := &summaryFixture{t: t, ctx: context.Background(), users: map[string]int64{}}
	f.store = modelstest.Open(t, modelstest.URL(t), models.Options{Keyring: modelstest.Keyring(t), Now: func() time.Time { return t0 }})
	if _, err := f.store.Import(f.ctx, summaryDoc(), models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"all", "mbsa", "other", "reader", "stranger"} {
		u := models.User{DisplayName: name, Language: "en", CreatedAt: t0, UpdatedAt: t0}
		if err := f.store.DB().Create(&u).Error; err != nil {
			t.Fatal(err)
		}
		f.users[name] = u.ID
	}
	az, err := authz.New(f.ctx, f.store, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = az.Close() })
	grants := map[string][]string{"all": {"M1", "E1", "E2", "V9"}, "mbsa": {"M1", "E1"}, "other": {"V9"}}
	err = f.store.InTx(f.ctx, func(tx *models.Tx) error {
		for user, numbers := range grants {
			for _, n := range numbers {
				if err := az.Grant(tx, models.Actor{Label: "system"}, f.users[user], f.licence(n), models.PermLicenseViewer, models.SourceDirect); err != nil {
					return err
				}
			}
		}
		return az.Grant(tx, models.Actor{Label: "system"}, f.users["reader"], f.licence("E1"), models.PermKeyReader, models.SourceDirect)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.summary = app.NewSummary(f.store, az)
	return f
}

func (f *summaryFixture) licence(number string) *int64 {
	id, err := f.store.AgreementID(f.ctx, number)
	if err != nil {
		f.t.Fatal(err)
	}
	return &id
}

func (f *summaryFixture) build(user string, numbers ...string) *app.SummaryView {
	f.t.Helper()
	v, err := f.summary.Build(f.ctx, f.users[user], numbers)
	if err != nil {
		f.t.Fatalf("%s %v: %v", user, numbers, err)
	}
	return v
}

type rowSums struct {
	quantity, sa int64
	saEnds       string
	soon         bool
	via          string
	orders       int
}

func rowsOf(v *app.SummaryView) map[string]rowSums {
	out := map[string]rowSums{}
	for _, r := range v.Rows {
		out[r.Agreement+"/"+r.ProductCode+"/"+string(r.Pool)] = rowSums{r.Quantity, r.SAQuantity, r.SAEnds, r.SAEndingSoon, r.ViaMBSA, len(r.Orders)}
	}
	return out
}

func TestSummaryAddsUpOrders(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	f := newSummaryFixture(t)
	v := f.build("all", "E1", "E2", "V9")
	want := map[string]rowSums{
		"E1/office/applications": {90, 90, "2028-12-31", false, "", 2}, // 100 bought, 10 returned
		"E1/win/systems":         {30, 50, "2028-12-31", false, "", 2}, // licences without SA, and SA only
		"E1/sql/servers":         {8, 0, "2026-01-31", true, "", 1},    // SA has ended
		"E2/office/applications": {20, 0, "", false, "", 1},            // a subscription
		"E2/sql/servers":         {4, 4, "2026-04-30", true, "", 1},    // SA ends within 90 days
		"V9/office/applications": {5, 0, "", false, "", 1},
	}
	got := rowsOf(v)
	if len(got) != len(want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %+v, want %+v", k, got[k], w)
		}
	}
	if v.AsOf != "2026-03-14" {
		t.Errorf("as of %s", v.AsOf)
	}
	flags := map[string][3]bool{}
	for _, a := range v.Agreements {
		flags[a.Number] = [3]bool{a.Expired, a.SAEndingSoon, a.Flagged}
	}
	wantFlags := map[string][3]bool{"E1": {false, false, false}, "E2": {false, true, true}, "V9": {true, false, true}}
	for n, w := range wantFlags {
		if flags[n] != w {
			t.Errorf("%s: expired, SA ending soon, flagged = %v, want %v", n, flags[n], w)
		}
	}
	totals := map[string][2]int64{}
	for _, p := range v.Products {
		totals[p.ProductCode+"/"+string(p.Pool)] = [2]int64{p.Quantity, p.SAQuantity}
	}
	wantTotals := map[string][2]int64{"office/applications": {115, 90}, "win/systems": {30, 50}, "sql/servers": {12, 4}}
	for k, w := range wantTotals {
		if totals[k] != w {
			t.Errorf("total %s = %v, want %v", k, totals[k], w)
		}
	}
	// Expanded: the orders of a row, with the return.
	for _, r := range v.Rows {
		if r.Agreement == "E1" && r.ProductCode == "office" {
			if r.Orders[1].Number != "PO-2" || r.Orders[1].Quantity != -10 || !r.Orders[1].SAActive {
				t.Errorf("office orders %+v", r.Orders)
			}
		}
	}
}

func TestSummaryMarksAgreementsReachedThroughMBSA(t *testing.T) {
	f := newSummaryFixture(t)
	// M1 selected with E1: E1 is not marked; E2 is reached through M1.
	got := rowsOf(f.build("all", "M1", "E1"))
	if got["E1/office/applications"].via != "" || got["E2/sql/servers"].via != "M1" || got["E2/office/applications"].via != "M1" {
		t.Errorf("via: %+v", got)
	}
	// A viewer of M1 and E1 only does not see E2's orders through M1.
	got = rowsOf(f.build("mbsa", "M1"))
	if _, ok := got["E2/sql/servers"]; ok {
		t.Errorf("E2 reached without access: %+v", got)
	}
	if got["E1/office/applications"].via != "M1" || got["E1/office/applications"].quantity != 90 {
		t.Errorf("E1 through M1: %+v", got)
	}
}

func TestSummaryRefusesLikeUnknown(t *testing.T) {
	f := newSummaryFixture(t)
	for _, c := range []struct {
		user    string
		numbers []string
	}{
		{"stranger", []string{"E1"}},
		{"other", []string{"E1"}},
		{"other", []string{"V9", "E1"}}, // one allowed licence does not let another through
		{"reader", []string{"E1"}},      // key_reader is not license_viewer
		{"mbsa", []string{"E2"}},
		{"all", []string{"NOPE"}},
		{"all", nil},
	} {
		v, err := f.summary.Build(f.ctx, f.users[c.user], c.numbers)
		if !errors.Is(err, authz.ErrNoSuchLicence) || v != nil {
			t.Errorf("%s %v: %v, %v; want the unknown-licence answer", c.user, c.numbers, v, err)
		}
	}
}

func TestSummaryExports(t *testing.T) {
	f := newSummaryFixture(t)
	v := f.build("all", "E1", "E2")
	var buf bytes.Buffer
	if err := app.WriteSummaryCSV(v, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+len(v.Rows) || recs[0][0] != "agreement" || recs[0][5] != "quantity" {
		t.Fatalf("CSV %v", recs)
	}
	sums := map[string]string{}
	for _, r := range recs[1:] {
		sums[r[0]+"/"+r[3]+"/"+r[4]] = r[5] + "," + r[6]
	}
	if sums["E1/office/applications"] != "90,90" || sums["E1/win/systems"] != "30,50" || sums["E2/sql/servers"] != "4,4" {
		t.Errorf("CSV sums %v", sums)
	}

	buf.Reset()
	if err := app.WriteSummaryXLSX(v, &buf); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("not a spreadsheet: %v", err)
	}
	defer x.Close()
	if got := x.GetSheetList(); len(got) != 3 || got[0] != "Summary" || got[1] != "Orders" || got[2] != "Agreements" {
		t.Errorf("sheets %v", got)
	}
	rows, err := x.GetRows("Summary")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(recs) {
		t.Fatalf("XLSX has %d rows, CSV %d", len(rows), len(recs))
	}
	for i := range rows {
		for j := 0; j < 7; j++ {
			if rows[i][j] != recs[i][j] {
				t.Errorf("Summary!R%dC%d = %q, CSV has %q", i+1, j+1, rows[i][j], recs[i][j])
			}
		}
	}
	// Quantities are numbers, not text.
	typ, err := x.GetCellType("Summary", "F2")
	if err != nil || typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("F2 type %v, %v", typ, err)
	}
	orders, _ := x.GetRows("Orders")
	var returned bool
	for _, r := range orders[1:] {
		if r[3] == "PO-2" && r[8] == "-10" {
			returned = true
		}
	}
	if len(orders) != 1+7 || !returned {
		t.Errorf("Orders sheet %v", orders)
	}
}
