package models_test

import (
	"context"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestSQLiteReadersCannotWrite checks that on SQLite a write outside InTx,
// on the pool of readers, fails instead of bypassing the writer's queue,
// and that the same write inside InTx succeeds.
func TestSQLiteReadersCannotWrite(t *testing.T) {
	s := modelstest.New(t)
	if s.Dialect() != models.DialectSQLite {
		t.Skip("the readers are a separate pool on SQLite only")
	}
	now := s.Now()
	org := models.Organization{Number: "C1", Name: "A", CreatedAt: now, UpdatedAt: now}
	if err := s.DB().Create(&org).Error; err == nil {
		t.Fatal("a write on the readers succeeded")
	}
	if n := modelstest.Count(t, s, models.Organization{}); n != 0 {
		t.Fatalf("%d organizations after a refused write", n)
	}
	err := s.InTx(context.Background(), func(tx *models.Tx) error { return tx.DB().Create(&org).Error })
	if err != nil {
		t.Fatalf("the same write in a transaction: %v", err)
	}
	if n := modelstest.Count(t, s, models.Organization{}); n != 1 {
		t.Errorf("%d organizations after the write, want 1", n)
	}
}
