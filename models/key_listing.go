package models

import (
	"cmp"
	"context"
	"database/sql"
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
func (s *Store) KeyListingsPage(ctx context.Context, licence int64, after KeyCursor, limit int) ([]KeyListing, error) {
	kind := "k.key_type"
	if s.dialect == DialectPostgres {
		kind = `k.key_type COLLATE "C"`
	}
	q := s.keyListings(ctx, licence).
		Where("(k.product_id, "+kind+", k.id) > ("+boundInt+", "+boundText+", "+boundInt+")", after.ProductID, after.KeyType, after.ID).
		Order("k.product_id, " + kind + ", k.id").Limit(limit)
	return scanKeyListings(q, licence)
}

// keyListings selects the columns scanKeyListings reads of licence's keys.
func (s *Store) keyListings(ctx context.Context, licence int64) *gorm.DB {
	return s.db.WithContext(ctx).Table("product_keys AS k").
		Select("k.id, k.product_id, k.key_type, k.suffix, k.activation_limit, k.activations_used, k.activations_as_of, "+
			"k.status, k.block_reason, k.replaces_id, p.name, p.code, COALESCE(rk.suffix, '')").
		Joins("JOIN products p ON p.id = k.product_id").
		Joins("LEFT JOIN product_keys rk ON rk.id = k.replaces_id").
		Where("k.agreement_id = "+boundInt, licence)
}

// scanKeyListings runs q (see keyListings) and scans its rows without
// reflection.
func scanKeyListings(q *gorm.DB, licence int64) ([]KeyListing, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, mapError(err)
	}
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
