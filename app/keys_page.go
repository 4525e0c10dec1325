package app

import (
	"context"
	"strconv"
	"strings"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// Page sizes of a licence's keys in the API (KeyQuery.Limit).
const (
	KeysPageSize    = 100
	KeysMaxPageSize = 1000
)

// KeyQuery selects a page of a licence's keys.
type KeyQuery struct {
	// After is the cursor of the previous page (KeyPage.Next); zero for
	// the first.
	After models.KeyCursor
	Limit int
}

// KeyPage is one page of a licence's keys, in (product, type, id) order.
type KeyPage struct {
	Keys []KeyView `json:"keys"`
	// Next is the cursor (after) of the next page; "" on the last. Keys
	// added or removed between two pages neither repeat nor hide others.
	Next string `json:"next,omitempty"`
}

// ParseKeyQuery reads a KeyQuery from the query parameters after (a
// KeyPage.Next) and limit (KeysPageSize when "").
func ParseKeyQuery(after, limit string) (KeyQuery, error) {
	q := KeyQuery{Limit: KeysPageSize}
	if limit != "" {
		n, err := parsePageSize(limit, KeysMaxPageSize, "err.keys.page_size")
		if err != nil {
			return q, err
		}
		q.Limit = n
	}
	if after == "" {
		return q, nil
	}
	c, ok := parseKeyCursor(after)
	if !ok {
		return q, models.InvalidKey("err.keys.cursor", "This page of keys cannot be found; start from the first page.",
			models.FieldError{Field: "after", Key: "err.field.cursor", Message: "Give the next of the previous page."})
	}
	q.After = c
	return q, nil
}

// keyCursor writes the cursor of the page after k: product.type.id.
func keyCursor(k models.KeyListing) string {
	return strconv.FormatInt(k.ProductID, 10) + "." + k.KeyType + "." + strconv.FormatInt(k.ID, 10)
}

func parseKeyCursor(s string) (models.KeyCursor, bool) {
	first, last := strings.IndexByte(s, '.'), strings.LastIndexByte(s, '.')
	if first < 0 || last <= first {
		return models.KeyCursor{}, false
	}
	p, err1 := strconv.ParseInt(s[:first], 10, 64)
	id, err2 := strconv.ParseInt(s[last+1:], 10, 64)
	if err1 != nil || err2 != nil || p < 1 || id < 1 {
		return models.KeyCursor{}, false
	}
	return models.KeyCursor{ProductID: p, KeyType: s[first+1 : last], ID: id}, true
}

// ListPage returns the page q of licence's keys, masked, reading only
// that page. The caller has checked that user may read the licence's keys
// (it is checked again).
func (k *Keys) ListPage(ctx context.Context, user, licence int64, q KeyQuery) (KeyPage, error) {
	if err := k.check(user, licence, authz.ActReadKeys); err != nil {
		return KeyPage{}, err
	}
	rows, err := k.store.KeyListingsPage(ctx, licence, q.After, q.Limit+1)
	if err != nil {
		return KeyPage{}, err
	}
	p := KeyPage{Keys: keyViews(rows[:min(len(rows), q.Limit)])}
	if len(rows) > q.Limit {
		p.Next = keyCursor(rows[q.Limit-1])
	}
	return p, nil
}
