package models_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestKeyListingsOfMatchesKeysOf: the lean key listing reads what KeysOf
// reads, but for the sealed key, the fingerprint, the status note and the
// row times, in the same order.
func TestKeyListingsOfMatchesKeysOf(t *testing.T) {
	ctx := context.Background()
	s := modelstest.New(t)
	limit, used := int64(10), int64(4)
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements:    []models.ImportAgreement{{Program: "open_value", Number: "V1", Organization: "C1"}},
		Products: []models.ImportProduct{{ID: "b", Name: "B product", Versions: []models.ImportVersion{{Version: "1"}}},
			{ID: "a", Name: "A product", Versions: []models.ImportVersion{{Version: "1"}}}},
		Keys: []models.ImportKey{
			{Agreement: "V1", Product: "b", Type: "mak", Key: "BBBBB-BBBBB-BBBBB-BBBBB-11111", ActivationLimit: &limit, ActivationsUsed: &used, ActivationsAsOf: "2026-11-01T10:00:00Z"},
			{Agreement: "V1", Product: "a", Type: "kms", Key: "AAAAA-AAAAA-AAAAA-AAAAA-22222"},
			{Agreement: "V1", Product: "a", Type: "mak", Key: "AAAAA-AAAAA-AAAAA-AAAAA-33333", ActivationLimit: &limit},
		},
	}
	if _, err := s.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	licence, err := s.AgreementID(ctx, "V1")
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.KeysOf(ctx, licence)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.KeyListingsOf(ctx, licence)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		w := &want[i]
		w.SealedKey, w.Fingerprint, w.StatusNote, w.StatusChangedAt = nil, "", "", nil
		w.CreatedAt, w.UpdatedAt = got[i].CreatedAt, got[i].UpdatedAt
		if w.ActivationsAsOf != nil {
			u := w.ActivationsAsOf.UTC()
			w.ActivationsAsOf = &u
		}
	}
	if len(want) != 3 || !reflect.DeepEqual(got, want) {
		t.Errorf("KeyListingsOf:\n%+v\nKeysOf:\n%+v", got, want)
	}
}
