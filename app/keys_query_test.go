package app_test

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// wantKeyPage is the page of keys FilteredPage must give, filtered, sorted
// and cut in Go from the whole list.
func wantKeyPage(all []app.KeyView, q app.KeyListQuery) (keys []app.KeyView, page, total int) {
	needle := strings.ToLower(q.Q)
	var kept []app.KeyView
	for _, k := range all {
		if q.Status != "" && k.Status != q.Status {
			continue
		}
		if needle == "" || slices.ContainsFunc([]string{k.Product, k.ProductCode, k.Type, k.Suffix},
			func(s string) bool { return strings.Contains(strings.ToLower(s), needle) }) {
			kept = append(kept, k)
		}
	}
	byProduct := func(a, b app.KeyView) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Product), strings.ToLower(b.Product)), cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
	}
	order := byProduct
	switch q.Sort {
	case "type":
		order = func(a, b app.KeyView) int { return cmp.Or(cmp.Compare(a.Type, b.Type), byProduct(a, b)) }
	case "usage":
		order = func(a, b app.KeyView) int { return cmp.Or(cmp.Compare(b.Percent, a.Percent), byProduct(a, b)) }
	}
	slices.SortStableFunc(kept, order)
	page = min(max(q.Page, 1), max(1, (len(kept)+q.Size-1)/q.Size))
	from := (page - 1) * q.Size
	return kept[from:min(from+q.Size, len(kept))], page, len(kept)
}

// TestKeysFilteredPage: the keys page's filter, orders and pages, done by
// the database, give what filtering and sorting the whole list in Go gives
// (products in any case, of the same name in another case, not in ASCII;
// blocked and retired keys; MAKs at every usage, of limit 0; other types;
// characters LIKE would take for patterns), on both databases.
func TestKeysFilteredPage(t *testing.T) {
	f := newKeysFixture(t)
	products := []models.ImportProduct{
		{ID: "beta", Name: "beta Server"}, {ID: "alpha-1", Name: "Alpha Suite"}, {ID: "alpha-2", Name: "alpha suite"},
		{ID: "etoile", Name: "Étoile Office"}, {ID: "z_pct", Name: "Zeta 100% _Tools"},
	}
	doc := &models.ImportDocument{Products: products}
	types := []string{"mak", "kms", "retail", "oem"}
	for i := range 90 {
		k := models.ImportKey{Agreement: "V1", Product: products[i%len(products)].ID, Type: types[i%len(types)],
			Key: fmt.Sprintf("QQQQQ-QQQQQ-QQQQQ-QQQQQ-%05X", 0xA0000+i*7919)}
		if k.Type == "mak" {
			k.ActivationLimit, k.ActivationsUsed = i64(int64(i%4)*10), i64(int64(i%4)*10*int64(i%3)/3)
		}
		switch i % 11 {
		case 3:
			k.Status, k.BlockReason = "blocked", "leaked"
		case 7:
			k.Status = "retired"
		}
		doc.Keys = append(doc.Keys, k)
	}
	for i := range doc.Products {
		doc.Products[i].Versions = []models.ImportVersion{{Version: "1"}}
	}
	if _, err := f.store.Import(f.ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	reader, v1 := f.users["reader"], f.lic["V1"]
	all, err := f.keys.List(f.ctx, reader, v1)
	if err != nil || len(all) != 92 {
		t.Fatalf("%d keys, %v", len(all), err)
	}
	for _, text := range []string{"", "ALPHA", "suite", "étoile", "ÉTOILE", "%", "_", "1", "ma", "RETAIL", "nothing"} {
		for _, status := range []models.KeyStatus{"", models.KeyActive, models.KeyBlocked, models.KeyRetired} {
			for _, sort := range []string{"product", "type", "usage"} {
				for page := 1; page <= 8; page++ {
					q := app.KeyListQuery{Q: text, Status: status, Sort: sort, Page: page, Size: 13}
					got, err := f.keys.FilteredPage(f.ctx, reader, v1, q)
					if err != nil {
						t.Fatal(err)
					}
					want, wantPage, total := wantKeyPage(all, q)
					if !reflect.DeepEqual(slices.Collect(ids(got.Keys)), slices.Collect(ids(want))) || got.Page != wantPage ||
						got.Total != total || !got.AnyKeys || !got.HasMAK {
						t.Fatalf("%+v: got page %d of %d keys %v, want page %d of %d keys %v", q, got.Page, got.Total, slices.Collect(ids(got.Keys)),
							wantPage, total, slices.Collect(ids(want)))
					}
					if len(got.Keys) > 0 && !reflect.DeepEqual(got.Keys[0], want[0]) {
						t.Fatalf("%+v: first key %+v, want %+v", q, got.Keys[0], want[0])
					}
				}
			}
		}
	}
	if _, err := f.keys.FilteredPage(f.ctx, f.users["stranger"], v1, app.KeyListQuery{Page: 1, Size: 10}); err == nil {
		t.Error("a stranger read a page of the keys")
	}
}

// ids yields the keys' ids.
func ids(keys []app.KeyView) func(func(int64) bool) {
	return func(yield func(int64) bool) {
		for _, k := range keys {
			if !yield(k.ID) {
				return
			}
		}
	}
}
