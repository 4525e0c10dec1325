package models_test

import (
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestOutboxSchema checks that the outbox and development mailbox tables
// have a column for every field of their models, and no column without a
// field.
func TestOutboxSchema(t *testing.T) {
	db := models.GormOf(modelstest.New(t))
	m := db.Migrator()
	for _, model := range []any{&models.DevMail{}, &models.OutboxMail{}} {
		stmt := db.Statement
		if err := stmt.Parse(model); err != nil {
			t.Fatal(err)
		}
		sch := stmt.Schema
		if !m.HasTable(sch.Table) {
			t.Errorf("table %s is missing", sch.Table)
			continue
		}
		for _, f := range sch.Fields {
			if f.DBName != "" && !m.HasColumn(model, f.DBName) {
				t.Errorf("%s.%s (field %s) is missing", sch.Table, f.DBName, f.Name)
			}
		}
		cols, err := m.ColumnTypes(model)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			if sch.LookUpField(c.Name()) == nil {
				t.Errorf("column %s.%s has no field in %T", sch.Table, c.Name(), model)
			}
		}
	}
}
