package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

func qty(n int64) *int64 { return &n }

// withOrders is the valid document with three order lines on E2000001,
// one a return.
func withOrders(t *testing.T) *models.ImportDocument {
	doc := loadValid(t)
	doc.Orders = []models.ImportOrder{
		{Agreement: "E2000001", Number: "PO-1", Date: "2026-01-15", Product: "win-ent", Version: "11 24H2", Edition: "Enterprise",
			Quantity: qty(200), LicenceType: "licence_sa", SAEnds: "2028-12-31", Pool: "systems"},
		{Agreement: "E2000001", Number: "PO-2", Date: "2026-03-01", Product: "win-ent", Version: "11 24H2", Edition: "Enterprise",
			Quantity: qty(-20), LicenceType: "licence_sa", SAEnds: "2028-12-31", Pool: "systems"},
		{Agreement: "E2000001", Number: "PO-2", Date: "2026-03-01", Product: "win-ent",
			Quantity: qty(40), LicenceType: "subscription", Pool: "systems"},
	}
	return doc
}

func orderLines(t *testing.T, s *models.Store, number string) []models.OrderLine {
	t.Helper()
	id, err := s.AgreementID(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := s.OrderLinesOf(context.Background(), []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestImportOrders(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	s := modelstest.New(t)
	res := mustImport(t, s, withOrders(t))
	if res.Orders != (models.ImportCounts{Created: 3}) {
		t.Errorf("orders %+v", res.Orders)
	}
	lines := orderLines(t, s, "E2000001")
	var sum int64
	for _, l := range lines {
		sum += l.Quantity
		if l.ProductCode != "win-ent" || l.Pool != models.PoolSystems {
			t.Errorf("line %+v", l)
		}
	}
	if len(lines) != 3 || sum != 220 {
		t.Errorf("%d lines adding up to %d", len(lines), sum)
	}

	// Idempotent: the same document again changes nothing.
	res = mustImport(t, s, withOrders(t))
	if res.Orders != (models.ImportCounts{Unchanged: 3}) {
		t.Errorf("re-import: orders %+v", res.Orders)
	}
	if got := orderLines(t, s, "E2000001"); len(got) != 3 {
		t.Errorf("re-import: %d lines", len(got))
	}

	// A changed line is updated in place.
	doc := withOrders(t)
	doc.Orders[1].Quantity = qty(-25)
	res = mustImport(t, s, doc)
	if res.Orders != (models.ImportCounts{Updated: 1, Unchanged: 2}) {
		t.Errorf("update: orders %+v", res.Orders)
	}
	sum = 0
	for _, l := range orderLines(t, s, "E2000001") {
		sum += l.Quantity
	}
	if sum != 215 {
		t.Errorf("after the update the lines add up to %d", sum)
	}
}

func TestImportOrderValidation(t *testing.T) {
	s := modelstest.New(t)
	for _, tc := range []struct {
		name, field, phrase string
		edit                func(o *models.ImportOrder)
	}{
		{"UnknownAgreement", "orders[0].agreement", "not found", func(o *models.ImportOrder) { o.Agreement = "X9" }},
		{"BadNumber", "orders[0].number", "order number", func(o *models.ImportOrder) { o.Number = "" }},
		{"NoDate", "orders[0].date", "order date", func(o *models.ImportOrder) { o.Date = "" }},
		{"BadDate", "orders[0].date", "YYYY-MM-DD", func(o *models.ImportOrder) { o.Date = "15/01/2026" }},
		{"UnknownProduct", "orders[0].product", "not found", func(o *models.ImportOrder) { o.Product = "nope" }},
		{"UnknownVersion", "orders[0].version", "no version", func(o *models.ImportOrder) { o.Version = "12" }},
		{"NoQuantity", "orders[0].quantity", "give the quantity", func(o *models.ImportOrder) { o.Quantity = nil }},
		{"ZeroQuantity", "orders[0].quantity", "other than 0", func(o *models.ImportOrder) { o.Quantity = qty(0) }},
		{"BadType", "orders[0].licence_type", "not a licence type", func(o *models.ImportOrder) { o.LicenceType = "oem" }},
		{"SAWithoutEnd", "orders[0].sa_ends", "needs the date", func(o *models.ImportOrder) { o.SAEnds = "" }},
		{"EndWithoutSA", "orders[0].sa_ends", "has no Software Assurance", func(o *models.ImportOrder) { o.LicenceType = "licence" }},
		{"BadPool", "orders[0].pool", "not a pool", func(o *models.ImportOrder) { o.Pool = "desktops" }},
		{"Repeated", "orders[1]", "repeats orders[0]", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := withOrders(t)
			if tc.edit != nil {
				tc.edit(&doc.Orders[0])
			} else {
				doc.Orders[1] = doc.Orders[0]
			}
			_, err := s.Import(context.Background(), doc, models.ImportOptions{Actor: cli})
			var e *models.Error
			if !errors.As(err, &e) || e.Code != models.CodeInvalid {
				t.Fatalf("error %v, want an invalid-input error", err)
			}
			found := false
			for _, f := range e.Fields {
				found = found || f.Field == tc.field && strings.Contains(f.Message, tc.phrase)
			}
			if !found {
				t.Errorf("no problem %s containing %q in:\n%v", tc.field, tc.phrase, err)
			}
			// All or nothing: not even the organisations were stored.
			if _, err := s.AgreementID(context.Background(), "E2000001"); models.ErrorCode(err) != models.CodeNotFound {
				t.Errorf("a failed import stored agreements: %v", err)
			}
		})
	}
}

func TestImportKeyStatus(t *testing.T) {
	s := modelstest.New(t)
	mustImport(t, s, loadValid(t))
	keys := func() map[string]models.KeyListing {
		id, _ := s.AgreementID(context.Background(), "E2000001")
		rows, err := s.KeysOf(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]models.KeyListing{}
		for _, r := range rows {
			out[r.Suffix] = r
		}
		return out
	}
	if k := keys()["EEEEE"]; k.Status != models.KeyActive {
		t.Fatalf("a new key without status: %q", k.Status)
	}
	doc := loadValid(t)
	doc.Keys[0].Status, doc.Keys[0].BlockReason = "blocked", "leaked"
	res := mustImport(t, s, doc)
	if res.Keys.Updated != 1 || len(res.KeyStatusChanges) != 1 || res.KeyStatusChanges[0].To != models.KeyBlocked || res.KeyStatusChanges[0].Suffix != "EEEEE" {
		t.Errorf("result %+v, changes %+v", res.Keys, res.KeyStatusChanges)
	}
	if k := keys()["EEEEE"]; k.Status != models.KeyBlocked || k.BlockReason != models.BlockLeaked || k.StatusChangedAt == nil {
		t.Errorf("stored %+v", k.ProductKey)
	}
	// A document without a status keeps the stored one.
	res = mustImport(t, s, loadValid(t))
	if k := keys()["EEEEE"]; k.Status != models.KeyBlocked || res.Keys.Updated != 0 || len(res.KeyStatusChanges) != 0 {
		t.Errorf("re-import without status: %q, %+v", k.Status, res.Keys)
	}
	// The import's audit event lists the change.
	evs, err := s.AuditEvents(context.Background(), models.AuditQuery{All: true, Kind: models.AuditImport})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || !strings.Contains(evs[1].Details, "key_status_changes") {
		t.Errorf("import events %d: %v", len(evs), evs)
	}
	for _, tc := range []struct{ status, reason, field string }{
		{"lost", "", "keys[0].status"},
		{"blocked", "", "keys[0].block_reason"},
		{"retired", "fraud", "keys[0].block_reason"},
	} {
		doc := loadValid(t)
		doc.Keys[0].Status, doc.Keys[0].BlockReason = tc.status, tc.reason
		_, err := s.Import(context.Background(), doc, models.ImportOptions{Actor: cli})
		if models.ErrorCode(err) != models.CodeInvalid || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s/%s: %v", tc.status, tc.reason, err)
		}
	}
}
