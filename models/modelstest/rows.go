package modelstest

import (
	"context"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/internal/rawdb"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Fixtures read and write rows directly, for tests that set up or inspect
// the database in ways the product has no store method for. A where value
// matches on its non-zero fields (gorm's struct conditions); its zero value
// matches every row.

// Create inserts rows (pointers to models, such as *models.User) in one
// transaction through the store's writer, setting their ids.
func Create(tb testing.TB, s *models.Store, rows ...any) {
	tb.Helper()
	err := s.InTx(context.Background(), func(tx *models.Tx) error {
		for _, r := range rows {
			if err := tx.Gorm(rawdb.Key{}).Create(r).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("create fixture rows: %v", err)
	}
}

// Find returns the rows that match where, in primary key order.
func Find[T any](tb testing.TB, s *models.Store, where T) []T {
	tb.Helper()
	var out []T
	if err := reader(s).Where(&where).Order(byKey()).Find(&out).Error; err != nil {
		tb.Fatalf("find %T: %v", where, err)
	}
	return out
}

// Take returns the one row that matches where, failing the test when there
// is none.
func Take[T any](tb testing.TB, s *models.Store, where T) T {
	tb.Helper()
	var out T
	if err := reader(s).Where(&where).Order(byKey()).Take(&out).Error; err != nil {
		tb.Fatalf("take %T %+v: %v", where, where, err)
	}
	return out
}

// Count returns the number of rows that match where.
func Count[T any](tb testing.TB, s *models.Store, where T) int64 {
	tb.Helper()
	var n int64
	if err := reader(s).Model(new(T)).Where(&where).Count(&n).Error; err != nil {
		tb.Fatalf("count %T: %v", where, err)
	}
	return n
}

// byKey orders rows by their table's primary key.
func byKey() clause.OrderByColumn {
	return clause.OrderByColumn{Column: clause.Column{Table: clause.CurrentTable, Name: clause.PrimaryKey}}
}

// reader is the store's handle for reads.
func reader(s *models.Store) *gorm.DB { return s.Gorm(rawdb.Key{}) }

// Delete deletes the rows that match where (every row when where is the
// zero value).
func Delete[T any](tb testing.TB, s *models.Store, where T) {
	tb.Helper()
	err := s.InTx(context.Background(), func(tx *models.Tx) error {
		return tx.Gorm(rawdb.Key{}).Session(&gorm.Session{AllowGlobalUpdate: true}).Where(&where).Delete(new(T)).Error
	})
	if err != nil {
		tb.Fatalf("delete %T: %v", where, err)
	}
}
