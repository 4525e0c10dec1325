package models_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestLicenceRowsMatchAgreements: LicenceRows, which reads every row as
// one packed text value, gives what the agreements say, whatever their
// names hold (separators, digits, multi-byte text, nothing), with and
// without dates and parents, for short and long id lists, and ignores
// unknown ids.
func TestLicenceRowsMatchAgreements(t *testing.T) {
	ctx := context.Background()
	s := modelstest.New(t)
	doc := &models.ImportDocument{Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}}}
	names := []string{"", "Contoso, Ltd.", "12,34", "株式会社コントソ,東京", ",", "9", `a"b\\c`}
	doc.Agreements = append(doc.Agreements, models.ImportAgreement{Program: "mbsa", Number: "M1", Name: "MBSA 1,2,3", Organization: "C1"})
	for i := range 150 {
		a := models.ImportAgreement{Program: "enterprise", Number: fmt.Sprintf("E%03d", i), Name: names[i%len(names)], Organization: "C1", Parent: "M1"}
		if i%2 == 0 {
			a.Starts, a.Ends = "2026-01-01", "2028-12-31"
		}
		if i%3 == 0 {
			a.Program, a.Parent = "open_value", ""
		}
		doc.Agreements = append(doc.Agreements, a)
	}
	if _, err := s.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, a := range doc.Agreements {
		id, err := s.AgreementID(ctx, a.Number)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	want, err := s.AgreementsByID(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 3, len(ids)} {
		got, err := s.LicenceRows(ctx, append(ids[:n:n], 999_999))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%d ids: %d rows", n, len(got))
		}
		for _, r := range got {
			a := want[r.ID]
			if r.Number != a.Number || r.Program != a.Program || r.Name != a.Name || r.Starts != a.Starts.String() || r.Ends != a.Ends.String() ||
				(r.ParentID == nil) != (a.ParentID == nil) || (r.ParentID != nil && *r.ParentID != *a.ParentID) {
				t.Errorf("row %+v, agreement %+v", r, a)
			}
		}
	}
}
