package models

import (
	"context"
	"time"
)

// Status summarises the state of the service for the home page and the
// readiness probe.
type Status struct {
	Database      string     // "sqlite" or "postgres"
	SchemaVersion int64      // migration version applied
	SchemaLatest  int64      // newest migration version in this binary
	Organizations int64      // number of organisations
	Agreements    int64      // number of agreements (License IDs)
	Products      int64      // number of products in the catalog
	Keys          int64      // number of product keys
	LastImport    *time.Time // when agreement data was last imported, if ever
}

// Ready reports whether the schema is up to date.
func (s Status) Ready() bool { return s.SchemaVersion == s.SchemaLatest }

// Status reports the database kind, schema version and catalog sizes.
func (s *Store) Status(ctx context.Context) (Status, error) {
	st := Status{Database: s.dialect}
	var err error
	if st.SchemaVersion, st.SchemaLatest, err = s.SchemaVersion(ctx); err != nil {
		return st, err
	}
	if !st.Ready() {
		return st, nil
	}
	db := s.db.WithContext(ctx)
	for _, c := range []struct {
		model any
		n     *int64
	}{
		{&Organization{}, &st.Organizations},
		{&Agreement{}, &st.Agreements},
		{&Product{}, &st.Products},
		{&ProductKey{}, &st.Keys},
	} {
		if err := db.Model(c.model).Count(c.n).Error; err != nil {
			return st, mapError(err)
		}
	}
	var last AuditEvent
	err = db.Where("kind = ?", AuditImport).Order("id DESC").Limit(1).Find(&last).Error
	if err != nil {
		return st, mapError(err)
	}
	if last.ID != 0 {
		t := last.OccurredAt
		st.LastImport = &t
	}
	return st, nil
}
