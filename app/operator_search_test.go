package app_test

import (
	"slices"
	"testing"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestOperatorSearchLiteralWildcards searches for text holding "_" and
// "%": they match themselves only, on both databases.
func TestOperatorSearchLiteralWildcards(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	f := newKeysFixture(t)
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{
			{Program: "open_value", Number: "OV_2024", Organization: "C1"},
			{Program: "open_value", Number: "OVX2024", Organization: "C1"},
			{Program: "open_value", Number: "OV-A", Name: "Sale 50% off", Organization: "C1"},
			{Program: "open_value", Number: "OV-B", Name: "Sale 500 off", Organization: "C1"},
			{Program: "open_value", Number: "OV-C", Name: `Dept\IT`, Organization: "C1"},
		},
	}
	if _, err := f.store.Import(f.ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	ops := app.NewOperators(f.store, f.az, nil, app.OperatorsOptions{BaseURL: "https://lsc.example"})
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"ov_20", []string{"OV_2024"}},
		{"OV_2024", []string{"OV_2024"}},
		{"50%", []string{"OV-A"}},
		{`t\i`, []string{"OV-C"}},
		{`t\`, []string{"OV-C"}},
		{`\%`, nil},
		{"ov", []string{"OV-A", "OV-B", "OV-C", "OVX2024", "OV_2024"}},
	} {
		res, err := ops.Search(f.ctx, f.users["operator"], c.q)
		if err != nil {
			t.Fatalf("%q: %v", c.q, err)
		}
		var got []string
		for _, l := range res.Licences {
			got = append(got, l.Number)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("search %q: %v, want %v", c.q, got, c.want)
		}
	}
}
