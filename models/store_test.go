package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

func TestParseDatabaseURL(t *testing.T) {
	for _, tc := range []struct {
		in, dialect, dsn string
		wantErr          bool
	}{
		{in: "./data/openlsc.db", dialect: "sqlite", dsn: "./data/openlsc.db"},
		{in: "sqlite:data/x.db", dialect: "sqlite", dsn: "data/x.db"},
		{in: "sqlite:///var/lib/openlsc.db?mode=rwc", dialect: "sqlite", dsn: "/var/lib/openlsc.db"},
		{in: "postgres://u:p@localhost/db", dialect: "postgres", dsn: "postgres://u:p@localhost/db"},
		{in: "postgresql://localhost/db", dialect: "postgres", dsn: "postgresql://localhost/db"},
		{in: "mysql://u:secret@host/db", wantErr: true},
		{in: "", wantErr: true},
		{in: "sqlite:", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			d, dsn, err := models.ParseDatabaseURL(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error for %q", tc.in)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil || d != tc.dialect || dsn != tc.dsn {
				t.Errorf("got (%q, %q, %v), want (%q, %q)", d, dsn, err, tc.dialect, tc.dsn)
			}
		})
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	s := modelstest.New(t)
	cur, latest, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cur != latest || cur < 1 {
		t.Errorf("schema version %d of %d after Migrate", cur, latest)
	}
	// Migrating again is a no-op.
	if v, err := s.Migrate(ctx); err != nil || v != cur {
		t.Errorf("second Migrate = %d, %v; want %d, nil", v, err, cur)
	}
	st, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Ready() || st.Database != s.Dialect() || st.Agreements != 0 || st.LastImport != nil {
		t.Errorf("status of an empty database: %+v", st)
	}
}

// TestSchemaMatchesModels checks that every field of every model has its
// column in the migrated schema, so the two dialects' migrations cannot
// drift from the Go types.
func TestSchemaMatchesModels(t *testing.T) {
	s := modelstest.New(t)
	m := s.DB().Migrator()
	for _, model := range []any{
		&models.Organization{}, &models.Agreement{}, &models.AgreementContact{}, &models.User{},
		&models.Identity{}, &models.EmailVerification{}, &models.AccessRequest{}, &models.Invitation{},
		&models.Product{}, &models.ProductVersion{}, &models.ProductFile{}, &models.Entitlement{},
		&models.ProductKey{}, &models.ActivationRequest{}, &models.AuditEvent{}, &models.OutboxMail{},
		&models.Session{}, &models.APIToken{}, &models.Grant{}, &models.InheritanceChoice{},
	} {
		stmt := s.DB().Statement
		if err := stmt.Parse(model); err != nil {
			t.Fatal(err)
		}
		sch := stmt.Schema
		if !m.HasTable(sch.Table) {
			t.Errorf("table %s is missing", sch.Table)
			continue
		}
		for _, f := range sch.Fields {
			if f.DBName == "" || f.IgnoreMigration {
				continue
			}
			if !m.HasColumn(model, f.DBName) {
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

func TestAuditIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	s := modelstest.New(t)
	err := s.InTx(ctx, func(tx *models.Tx) error {
		return tx.AppendAudit(models.Actor{Label: "test"}, "test.event", nil, map[string]int{"n": 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriterDB().Exec("UPDATE audit_events SET kind = 'forged'").Error; err == nil {
		t.Error("UPDATE of audit_events succeeded")
	}
	if err := s.WriterDB().Exec("DELETE FROM audit_events").Error; err == nil {
		t.Error("DELETE from audit_events succeeded")
	}
	var n int64
	s.DB().Model(&models.AuditEvent{}).Where("kind = ?", "test.event").Count(&n)
	if n != 1 {
		t.Errorf("%d events, want 1", n)
	}
}

func TestInTxRollsBackAndMapsErrors(t *testing.T) {
	ctx := context.Background()
	s := modelstest.New(t)
	now := s.Now()
	org := models.Organization{Number: "C1", Name: "A", CreatedAt: now, UpdatedAt: now}
	if err := s.WriterDB().Create(&org).Error; err != nil {
		t.Fatal(err)
	}
	err := s.InTx(ctx, func(tx *models.Tx) error {
		if err := tx.AppendAudit(models.Actor{Label: "t"}, "x", nil, nil); err != nil {
			return err
		}
		dup := models.Organization{Number: "C1", Name: "B", CreatedAt: now, UpdatedAt: now}
		return tx.DB().Create(&dup).Error
	})
	if got := models.ErrorCode(err); got != models.CodeConflict {
		t.Fatalf("duplicate number: code %q (%v), want conflict", got, err)
	}
	var n int64
	s.DB().Model(&models.AuditEvent{}).Count(&n)
	if n != 0 {
		t.Errorf("audit event of a rolled-back transaction was kept")
	}
	if models.ErrorMessage(errors.New("pq: secret internals")) == "pq: secret internals" {
		t.Error("ErrorMessage leaks an internal error")
	}
}

func TestOnCommitRunsOnlyAfterCommit(t *testing.T) {
	ctx := context.Background()
	s := modelstest.New(t)
	var ran []string
	_ = s.InTx(ctx, func(tx *models.Tx) error {
		tx.OnCommit(func() { ran = append(ran, "rolled back") })
		return errors.New("fail")
	})
	err := s.InTx(ctx, func(tx *models.Tx) error {
		tx.OnCommit(func() { ran = append(ran, "committed") })
		if len(ran) != 0 {
			t.Error("OnCommit ran before the commit")
		}
		return nil
	})
	if err != nil || len(ran) != 1 || ran[0] != "committed" {
		t.Errorf("ran %v, err %v", ran, err)
	}
}
