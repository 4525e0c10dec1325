package app

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// KeyListQuery is the filter, order and page of a licence's keys list.
type KeyListQuery struct {
	Q      string           // part of the product's name or code, the key type or the last characters, any case
	Status models.KeyStatus // "" for every key
	// Sort is "product" (name in any case, then type, then id), "type"
	// (then as product) or "usage" (Percent, most used first, then as
	// product).
	Sort string
	Page int // from 1; a page past the last is the last
	Size int // keys a page, at least 1
}

// KeyList is one page of a licence's keys list.
type KeyList struct {
	Keys    []KeyView
	Total   int  // keys passing the filter
	Page    int  // the page shown
	AnyKeys bool // the licence has keys, whatever the filter
	HasMAK  bool // one of them is a MAK
}

// FilteredPage returns one page of the keys of licence the user may read, filtered
// and ordered in the database: only the page's keys are read, not the
// thousands of a large licence. The products (a few) are ordered here, by
// their names in any case as strings.ToLower has them, which no collation
// both databases have does alike.
func (k *Keys) FilteredPage(ctx context.Context, user, licence int64, q KeyListQuery) (*KeyList, error) {
	if err := k.check(user, licence, authz.ActReadKeys); err != nil {
		return nil, err
	}
	keys, maks, err := k.store.KeyCounts(ctx, licence)
	if err != nil || keys == 0 {
		return &KeyList{Page: 1}, err
	}
	products, err := k.store.KeyProducts(ctx, licence)
	if err != nil {
		return nil, err
	}
	mq := models.KeyQuery{Status: q.Status, Match: strings.ToLower(q.Q), Sort: q.Sort, ProductRank: productRanks(products), Limit: q.Size}
	for _, p := range products {
		if mq.Match != "" && (strings.Contains(strings.ToLower(p.Name), mq.Match) || strings.Contains(strings.ToLower(p.Code), mq.Match)) {
			mq.MatchProducts = append(mq.MatchProducts, p.ID)
		}
	}
	out := &KeyList{AnyKeys: true, HasMAK: maks > 0}
	if out.Total, err = k.store.CountKeyListings(ctx, licence, mq); err != nil {
		return nil, err
	}
	out.Page = min(max(q.Page, 1), max(1, (out.Total+q.Size-1)/q.Size))
	mq.Offset = (out.Page - 1) * q.Size
	rows, err := k.store.KeyListingsWhere(ctx, licence, mq)
	if err != nil {
		return nil, err
	}
	out.Keys = keyViews(rows)
	return out, nil
}

// productRanks places each product in the order of their names in lower
// case; products of the same name share a place.
func productRanks(products []models.Product) map[int64]int {
	type named struct {
		id    int64
		lower string
	}
	byName := make([]named, 0, len(products))
	for _, p := range products {
		byName = append(byName, named{p.ID, strings.ToLower(p.Name)})
	}
	slices.SortFunc(byName, func(a, b named) int { return cmp.Compare(a.lower, b.lower) })
	ranks := make(map[int64]int, len(byName))
	for i, p := range byName {
		ranks[p.id] = i
		if i > 0 && p.lower == byName[i-1].lower {
			ranks[p.id] = ranks[byName[i-1].id]
		}
	}
	return ranks
}
