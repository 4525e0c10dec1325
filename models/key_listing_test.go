package models_test

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// importKeys imports licence V1 of Contoso with keys of two products, b
// and a (named bName and aName, b imported first), and returns its id.
func importKeys(t *testing.T, s *models.Store, bName, aName string, keys []models.ImportKey) int64 {
	t.Helper()
	ctx := context.Background()
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements:    []models.ImportAgreement{{Program: "open_value", Number: "V1", Organization: "C1"}},
		Products: []models.ImportProduct{{ID: "b", Name: bName, Versions: []models.ImportVersion{{Version: "1"}}},
			{ID: "a", Name: aName, Versions: []models.ImportVersion{{Version: "1"}}}},
		Keys: keys,
	}
	if _, err := s.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	licence, err := s.AgreementID(ctx, "V1")
	if err != nil {
		t.Fatal(err)
	}
	return licence
}

// TestKeyListingsOfMatchesKeysOf: the lean key listing reads what KeysOf
// reads, but for the sealed key, the fingerprint, the status note and the
// row times, in the same order.
func TestKeyListingsOfMatchesKeysOf(t *testing.T) {
	ctx := context.Background()
	s := modelstest.New(t)
	limit, used := int64(10), int64(4)
	licence := importKeys(t, s, "B product", "A product", []models.ImportKey{
		{Agreement: "V1", Product: "b", Type: "mak", Key: "BBBBB-BBBBB-BBBBB-BBBBB-11111", ActivationLimit: &limit, ActivationsUsed: &used, ActivationsAsOf: "2026-11-01T10:00:00Z"},
		{Agreement: "V1", Product: "a", Type: "kms", Key: "AAAAA-AAAAA-AAAAA-AAAAA-22222"},
		{Agreement: "V1", Product: "a", Type: "mak", Key: "AAAAA-AAAAA-AAAAA-AAAAA-33333", ActivationLimit: &limit},
	})
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

// TestKeyListingsPageMatchesKeyListingsOf: the pages of a licence's keys,
// walked by cursor two at a time, hold exactly what KeyListingsOf reads, in
// (product id, key type bytewise, id) order, with names with commas and
// Japanese, empty and NULL numbers, a blocked key and a replacement.
func TestKeyListingsPageMatchesKeyListingsOf(t *testing.T) {
	ctx := context.Background()
	s := modelstest.New(t)
	limit, used, zero := int64(10), int64(4), int64(0)
	licence := importKeys(t, s, "Office, 2024 12,34", "ウィンドウズ サーバー", []models.ImportKey{
		{Agreement: "V1", Product: "b", Type: "mak", Key: "BBBBB-BBBBB-BBBBB-BBBBB-11111", ActivationLimit: &limit, ActivationsUsed: &used, ActivationsAsOf: "2026-11-01T10:00:00.123456789Z"},
		{Agreement: "V1", Product: "a", Type: "kms", Key: "AAAAA-AAAAA-AAAAA-AAAAA-22222"},
		{Agreement: "V1", Product: "a", Type: "mak", Key: "AAAAA-AAAAA-AAAAA-AAAAA-33333", ActivationLimit: &limit, ActivationsUsed: &zero},
		{Agreement: "V1", Product: "b", Type: "kms", Key: "BBBBB-BBBBB-BBBBB-BBBBB-44444"},
		{Agreement: "V1", Product: "b", Type: "mak", Key: "BBBBB-BBBBB-BBBBB-BBBBB-55555", ActivationLimit: &limit},
	})
	all, err := s.KeyListingsOf(ctx, licence)
	if err != nil {
		t.Fatal(err)
	}
	bySuffix := map[string]int64{}
	for _, k := range all {
		bySuffix[k.Suffix] = k.ID
	}
	err = s.InTx(ctx, func(tx *models.Tx) error {
		if _, err := tx.SetKeyStatus(bySuffix["11111"], models.KeyActive, models.KeyBlocked, "leaked", "posted online"); err != nil {
			return err
		}
		return tx.DB().Exec("UPDATE product_keys SET replaces_id = ? WHERE id = ?", bySuffix["11111"], bySuffix["55555"]).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.KeyListingsOf(ctx, licence)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(want, func(x, y models.KeyListing) int {
		return cmp.Or(cmp.Compare(x.ProductID, y.ProductID), strings.Compare(x.KeyType, y.KeyType), cmp.Compare(x.ID, y.ID))
	})
	var got []models.KeyListing
	var after models.KeyCursor
	for range len(want) {
		page, err := s.KeyListingsPage(ctx, licence, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		last := page[len(page)-1]
		after = models.KeyCursor{ProductID: last.ProductID, KeyType: last.KeyType, ID: last.ID}
	}
	if len(want) != 5 || !reflect.DeepEqual(got, want) {
		t.Errorf("pages of KeyListingsPage (%s):\n%+v\nKeyListingsOf:\n%+v", modelstest.Name(), got, want)
	}
	if !slices.ContainsFunc(want, func(k models.KeyListing) bool { return k.ReplacesSuffix == "11111" && k.ReplacesID != nil }) ||
		!slices.ContainsFunc(want, func(k models.KeyListing) bool { return k.BlockReason == "leaked" && k.ActivationsAsOf != nil }) {
		t.Error("the replacement's replaced suffix is not read")
	}
}
