package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialects a Store can run on.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Store persists OpenLSC's data in SQLite or PostgreSQL.
type Store struct {
	db      *gorm.DB
	dialect string
	keys    *Keyring
	now     func() time.Time
}

// Options configure Open.
type Options struct {
	// Keyring seals secrets at rest and computes keyed hashes. Required.
	Keyring *Keyring
	// Now returns the current time; time.Now when nil. Tests set it.
	Now func() time.Time
}

// ParseDatabaseURL tells which dialect a database URL is for and returns the
// driver DSN. It accepts a postgres:// or postgresql:// URL, a sqlite: URL
// (sqlite:path or sqlite:///abs/path), or a plain file path.
func ParseDatabaseURL(raw string) (dialect, dsn string, err error) {
	switch {
	case raw == "":
		return "", "", errors.New("the database URL is empty")
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return "", "", fmt.Errorf("not a valid postgres URL: %w", err)
		}
		return DialectPostgres, raw, nil
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(raw, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path == "" {
			return "", "", errors.New("the sqlite: URL names no file")
		}
		return DialectSQLite, path, nil
	case strings.Contains(raw, "://"):
		return "", "", fmt.Errorf("unsupported database URL scheme in %q: use postgres://… or a SQLite file path", redactURL(raw))
	default:
		return DialectSQLite, raw, nil
	}
}

// redactURL hides the password of a URL so it can be shown in errors and logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Open connects to the database named by rawURL. It does not migrate; call
// Migrate for that. A SQLite file and its directory are created if missing.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	if opts.Keyring == nil {
		return nil, errors.New("models.Open: no keyring")
	}
	dialect, dsn, err := ParseDatabaseURL(rawURL)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		Logger:                                   logger.Discard,
		NowFunc:                                  func() time.Time { return time.Now().UTC() },
		DisableForeignKeyConstraintWhenMigrating: true,
		TranslateError:                           false,
	}
	var dial gorm.Dialector
	switch dialect {
	case DialectSQLite:
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create the database directory: %w", err)
			}
		}
		// WAL lets readers run beside the writer; an immediate transaction
		// takes the write lock at BEGIN, so two writers queue (busy_timeout)
		// instead of failing with SQLITE_BUSY half-way.
		q := url.Values{}
		q.Set("_foreign_keys", "on")
		q.Set("_journal_mode", "WAL")
		q.Set("_busy_timeout", "10000")
		q.Set("_txlock", "immediate")
		q.Set("_synchronous", "NORMAL")
		dial = sqlite.Open("file:" + dsn + "?" + q.Encode())
	case DialectPostgres:
		dial = postgres.Open(dsn)
	}
	db, err := gorm.Open(dial, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if dialect == DialectPostgres {
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		sqlDB.SetMaxOpenConns(8)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to the %s database: %w", dialect, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, dialect: dialect, keys: opts.Keyring, now: func() time.Time { return now().UTC() }}, nil
}

// Dialect returns DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// Keyring returns the keyring the store seals secrets with.
func (s *Store) Keyring() *Keyring { return s.keys }

// Now returns the store's current time in UTC.
func (s *Store) Now() time.Time { return s.now() }

// DB returns the underlying gorm handle, for packages (such as authz) that
// keep tables of their own in the same database.
func (s *Store) DB() *gorm.DB { return s.db }

// SQL returns the underlying database/sql handle.
func (s *Store) SQL() (*sql.DB, error) { return s.db.DB() }

// Close closes the database connections.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Tx is a database transaction. Code that must change several things
// atomically (a grant, its audit event and its mail) takes a *Tx.
type Tx struct {
	db       *gorm.DB
	store    *Store
	onCommit []func()
}

// OnCommit registers fn to run after the transaction commits; it does not
// run if the transaction rolls back. Caches (such as the authorization
// policy) use it so memory never runs ahead of the database.
func (tx *Tx) OnCommit(fn func()) { tx.onCommit = append(tx.onCommit, fn) }

// DB returns the transaction's gorm handle.
func (tx *Tx) DB() *gorm.DB { return tx.db }

// Now returns the store's current time in UTC.
func (tx *Tx) Now() time.Time { return tx.store.now() }

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise. Database errors are mapped to the error vocabulary.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	var committed []func()
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		tx := &Tx{db: db, store: s}
		if err := fn(tx); err != nil {
			return err
		}
		committed = tx.onCommit
		return nil
	})
	if err != nil {
		return mapError(err)
	}
	for _, f := range committed {
		f()
	}
	return nil
}

// mapError maps driver errors to the error vocabulary: unique violations
// become conflicts, missing rows not found; Errors pass through unchanged.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows) {
		return &Error{Code: CodeNotFound, Message: "Not found.", Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return &Error{Code: CodeConflict, Message: "A record with the same key already exists.", Err: err}
		case "23503", "23514", "23502":
			return &Error{Code: CodeInvalid, Message: "The data breaks a database rule.", Err: err}
		}
	}
	var sqErr sqlite3.Error
	if errors.As(err, &sqErr) && sqErr.Code == sqlite3.ErrConstraint {
		switch sqErr.ExtendedCode {
		case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
			return &Error{Code: CodeConflict, Message: "A record with the same key already exists.", Err: err}
		default:
			return &Error{Code: CodeInvalid, Message: "The data breaks a database rule.", Err: err}
		}
	}
	return &Error{Code: CodeInternal, Message: "database error", Err: err}
}
