package authz_test

import (
	"context"
	"testing"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestAgreementID: the authorizer resolves licence numbers for the guards,
// remembers the ids it found (an agreement keeps its number), and asks the
// database again for a number it did not find, so that a licence imported
// meanwhile by another process is found at once.
func TestAgreementID(t *testing.T) {
	url := modelstest.URL(t)
	f := newFixtureAt(t, url, authz.Options{PollInterval: -1})
	ctx := context.Background()
	for range 2 {
		if id, err := f.a.AgreementID(ctx, "E1"); err != nil || id != f.lic["E1"] {
			t.Fatalf("E1: %d %v, want %d", id, err, f.lic["E1"])
		}
	}
	if _, err := f.a.AgreementID(ctx, "E9"); models.ErrorCode(err) != models.CodeNotFound {
		t.Fatalf("E9 before its import: %v, want not found", err)
	}
	importer := modelstest.Open(t, url, models.Options{Keyring: modelstest.Keyring(t)})
	doc := &models.ImportDocument{Agreements: []models.ImportAgreement{{Program: "enterprise", Number: "E9", Organization: "C1"}}}
	res, err := importer.Import(ctx, doc, models.ImportOptions{Actor: system})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := f.a.AgreementID(ctx, "E9"); err != nil || id != res.ChangedAgreements[0] {
		t.Fatalf("E9 after its import by another process: %d %v, want %d", id, err, res.ChangedAgreements[0])
	}
	// What was found is answered from memory, without the database.
	if err := f.s.Close(); err != nil {
		t.Fatal(err)
	}
	if id, err := f.a.AgreementID(ctx, "E1"); err != nil || id != f.lic["E1"] {
		t.Errorf("E1 with the database closed: %d %v", id, err)
	}
	if _, err := f.a.AgreementID(ctx, "E8"); err == nil {
		t.Error("E8 with the database closed: found")
	}
}
