package models

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// KeyListingsOf returns the product keys of licence as key lists show
// them, in KeysOf's order, without the sealed keys, status notes and the
// times other than ActivationsAsOf: only the listed columns are read, and scanned
// without reflection (a large licence has thousands of keys).
//
// On SQLite the rows are sorted here rather than by the query: SQLite's
// sorter copies every selected column of every row, which was half of the
// query's time for a licence with 2,000 keys; strings.Compare orders text
// as SQLite's BINARY collation does. PostgreSQL sorts by its collation.
func (s *Store) KeyListingsOf(ctx context.Context, licence int64) ([]KeyListing, error) {
	q := s.keyListings(ctx, licence)
	if s.dialect == DialectPostgres {
		q = q.Order("p.name, k.key_type, k.id")
	}
	out, err := scanKeyListings(q, licence)
	if err != nil {
		return nil, err
	}
	if s.dialect != DialectPostgres {
		slices.SortFunc(out, func(x, y KeyListing) int {
			return cmp.Or(strings.Compare(x.ProductName, y.ProductName), strings.Compare(x.KeyType, y.KeyType), cmp.Compare(x.ID, y.ID))
		})
	}
	return out, nil
}

// KeyCursor is where a page of a licence's keys starts: after the key
// with this product id, type and id, the order of KeyListingsPage. The
// zero KeyCursor starts at the first key.
type KeyCursor struct {
	ProductID int64
	KeyType   string
	ID        int64
}

// KeyListingsPage returns at most limit of the keys of licence as
// KeyListingsOf shows them, those after the cursor after in the order
// (product id, key type bytewise, id) that both databases keep alike,
// read by the index on those columns: a page of a licence with thousands
// of keys reads only that page.
//
// It is the statement of a cheap route (the first page of a licence's
// keys), so it is written out rather than built (quickQuery).
func (s *Store) KeyListingsPage(ctx context.Context, licence int64, after KeyCursor, limit int) ([]KeyListing, error) {
	rows, err := s.quickQuery(ctx, keyListingsPageSQL[s.dialect], licence, after.ProductID, after.KeyType, after.ID, limit)
	if err != nil {
		return nil, mapError(err)
	}
	return scanKeyListingRows(rows, licence)
}

// keyListingsPageSQL is the statement of KeyListingsPage in each dialect,
// built once rather than on every request.
var keyListingsPageSQL = map[string]string{
	DialectSQLite:   keyListingsPageStatement(bytewise(DialectSQLite, "k.key_type")),
	DialectPostgres: keyListingsPageStatement(bytewise(DialectPostgres, "k.key_type")),
}

// keyListingsPageStatement is the statement of KeyListingsPage, kind the
// key type as compared bytewise.
func keyListingsPageStatement(kind string) string {
	return keyListingColumns + ` FROM product_keys AS k JOIN products p ON p.id = k.product_id
	LEFT JOIN product_keys rk ON rk.id = k.replaces_id
	WHERE k.agreement_id = ` + boundInt + ` AND (k.product_id, ` + kind + `, k.id) > (` + boundInt + `, ` + boundText + `, ` + boundInt + `)
	ORDER BY k.product_id, ` + kind + `, k.id LIMIT ` + boundInt
}

// keyListings selects the columns scanKeyListings reads of licence's keys.
func (s *Store) keyListings(ctx context.Context, licence int64) *gorm.DB {
	return s.db.WithContext(ctx).Table("product_keys AS k").
		Select(strings.TrimPrefix(keyListingColumns, "SELECT ")).
		Joins("JOIN products p ON p.id = k.product_id").
		Joins("LEFT JOIN product_keys rk ON rk.id = k.replaces_id").
		Where("k.agreement_id = "+boundInt, licence)
}

// keyListingColumns are the columns scanKeyListingRows reads.
const keyListingColumns = `SELECT k.id, k.product_id, k.key_type, k.suffix, k.activation_limit, k.activations_used, k.activations_as_of,
	k.status, k.block_reason, k.replaces_id, p.name, p.code, COALESCE(rk.suffix, '')`

// scanKeyListings runs q (see keyListings) and scans its rows.
func scanKeyListings(q *gorm.DB, licence int64) ([]KeyListing, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, mapError(err)
	}
	return scanKeyListingRows(rows, licence)
}

// scanKeyListingRows scans the keyListingColumns of rows, without
// reflection, and closes them.
func scanKeyListingRows(rows *sql.Rows, licence int64) ([]KeyListing, error) {
	defer rows.Close()
	var out []KeyListing
	for rows.Next() {
		r := KeyListing{ProductKey: ProductKey{AgreementID: licence}}
		var limit, used, replaces sql.NullInt64
		var asOf sql.NullTime
		if err := rows.Scan(&r.ID, &r.ProductID, &r.KeyType, &r.Suffix, &limit, &used, &asOf,
			&r.Status, &r.BlockReason, &replaces, &r.ProductName, &r.ProductCode, &r.ReplacesSuffix); err != nil {
			return nil, mapError(err)
		}
		if limit.Valid {
			r.ActivationLimit = &limit.Int64
		}
		if used.Valid {
			r.ActivationsUsed = &used.Int64
		}
		if replaces.Valid {
			r.ReplacesID = &replaces.Int64
		}
		if asOf.Valid {
			t := asOf.Time.In(time.UTC)
			r.ActivationsAsOf = &t
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return out, nil
}

// KeyQuery selects, orders and cuts a page of a licence's keys in the
// database, so that a page of a licence with thousands of keys reads only
// its rows (KeyListingsWhere) and a count (CountKeyListings).
type KeyQuery struct {
	Status KeyStatus // "" for every key
	// Match is a lower-case part of the key type or the last characters
	// ("" matches every key); the keys of MatchProducts match it too.
	Match         string
	MatchProducts []int64
	// Sort is "product" (ProductRank, type bytewise, id), "type" (type,
	// then as product) or "usage" (percent of a MAK's limit used, most
	// first, then as product). ProductRank is each product's place in the
	// product order; products of equal rank sort alike.
	Sort          string
	ProductRank   map[int64]int
	Offset, Limit int
}

// keyPercentSQL is app.KeyView's Percent: the part of a MAK's limit used,
// 0-100 (100 for a limit of 0 or less), 0 for other keys.
const keyPercentSQL = `CASE WHEN k.key_type = 'mak' AND k.activation_limit > 0 THEN
	CASE WHEN COALESCE(k.activations_used, 0) >= k.activation_limit THEN 100
	ELSE COALESCE(k.activations_used, 0) * 100 / k.activation_limit END
	WHEN k.key_type = 'mak' AND k.activation_limit IS NOT NULL THEN 100 ELSE 0 END`

// where adds q's filter to the keys of licence in db (product_keys AS k).
func (q KeyQuery) where(db *gorm.DB) *gorm.DB {
	if q.Status != "" {
		db = db.Where("COALESCE(NULLIF(k.status, ''), 'active') = ?", string(q.Status))
	}
	if q.Match != "" {
		like := "%" + strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(q.Match) + "%"
		db = db.Where("(k.product_id IN ? OR LOWER(k.key_type) LIKE ? ESCAPE '!' OR LOWER(k.suffix) LIKE ? ESCAPE '!')",
			append([]int64{0}, q.MatchProducts...), like, like)
	}
	return db
}

// order is q's order as SQL. The ranks are numbers of ours, written in
// the SQL as such.
func (q KeyQuery) order(dialect string) string {
	rank := "0"
	if len(q.ProductRank) > 0 {
		var b strings.Builder
		b.WriteString("CASE k.product_id")
		for _, id := range slices.Sorted(maps.Keys(q.ProductRank)) {
			fmt.Fprintf(&b, " WHEN %d THEN %d", id, q.ProductRank[id])
		}
		b.WriteString(" ELSE 0 END")
		rank = b.String()
	}
	kind := bytewise(dialect, "k.key_type")
	byProduct := rank + ", " + kind + ", k.id"
	switch q.Sort {
	case "type":
		return kind + ", " + byProduct
	case "usage":
		return keyPercentSQL + " DESC, " + byProduct
	}
	return byProduct
}

// CountKeyListings counts the keys of licence that pass q's filter.
func (s *Store) CountKeyListings(ctx context.Context, licence int64, q KeyQuery) (int, error) {
	var n int64
	err := q.where(s.db.WithContext(ctx).Table("product_keys AS k").Where("k.agreement_id = ?", licence)).Count(&n).Error
	return int(n), mapError(err)
}

// KeyListingsWhere returns the keys of licence as KeyListingsOf shows
// them that pass q's filter, in q's order, q.Limit of them from q.Offset.
// The page's ids are chosen first, sorting only the ordered columns of
// product_keys, and only that page's rows are joined and read: SQLite's
// sorter copies every selected column of every row it sorts, which for a
// page of a licence with 2,000 keys was most of the query's time.
func (s *Store) KeyListingsWhere(ctx context.Context, licence int64, q KeyQuery) ([]KeyListing, error) {
	order := q.order(s.dialect)
	page := q.where(s.db.WithContext(ctx).Table("product_keys AS k").Where("k.agreement_id = "+boundInt, licence)).
		Select("k.id").Order(order).Offset(q.Offset).Limit(q.Limit)
	return scanKeyListings(s.keyListings(ctx, licence).Where("k.id IN (?)", page).Order(order), licence)
}

// KeyProducts returns the products licence has keys of.
func (s *Store) KeyProducts(ctx context.Context, licence int64) ([]Product, error) {
	var out []Product
	err := s.db.WithContext(ctx).Model(&Product{}).Select("id, code, name").
		Where("id IN (?)", s.db.Table("product_keys").Select("product_id").Where("agreement_id = ?", licence)).
		Find(&out).Error
	return out, mapError(err)
}

// KeyCounts returns how many keys licence has, and how many are MAKs.
func (s *Store) KeyCounts(ctx context.Context, licence int64) (keys, maks int, err error) {
	err = s.db.WithContext(ctx).Table("product_keys").
		Select("COUNT(*), COUNT(CASE WHEN key_type = ? THEN 1 END)", KeyTypeMAK).
		Where("agreement_id = ?", licence).Row().Scan(&keys, &maks)
	return keys, maks, mapError(err)
}
