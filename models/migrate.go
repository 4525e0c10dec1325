package models

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/gorm"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migrationProvider reads and applies migrations through db: the writer to
// migrate, the readers to read the version.
func (s *Store) migrationProvider(db *gorm.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations/"+s.dialect)
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	if s.dialect == DialectPostgres {
		dialect = goose.DialectPostgres
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	if s.dialect == DialectPostgres {
		// Replicas starting together migrate one at a time.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, sqlDB, sub, opts...)
}

// Migrate applies every pending migration, each in its own transaction, and
// returns the schema version reached. On SQLite it runs on the writer
// connection, waiting up to WriteWait for it and for another process's
// write lock.
func (s *Store) Migrate(ctx context.Context) (int64, error) {
	release, err := s.acquireWriter(ctx, time.Now().Add(s.writeWait))
	if err != nil {
		return 0, err
	}
	defer release()
	if s.writer != nil {
		if err := s.w.WithContext(ctx).Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", s.writeWait.Milliseconds())).Error; err != nil {
			return 0, mapError(err)
		}
		defer s.w.Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", sqliteBusyStep.Milliseconds()))
	}
	p, err := s.migrationProvider(s.w)
	if err != nil {
		return 0, fmt.Errorf("load migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate the %s database: %w", s.dialect, err)
	}
	return p.GetDBVersion(ctx)
}

// SchemaVersion returns the applied migration version and the newest one
// this binary knows.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := s.migrationProvider(s.db)
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, err
	}
	sources := p.ListSources()
	if n := len(sources); n > 0 {
		latest = sources[n-1].Version
	}
	return current, latest, nil
}
