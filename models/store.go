package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"github.com/openlsc/openlsc/models/internal/rawdb"
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
//
// Reads outside a transaction use db. Every write goes through InTx, which
// runs on w. On SQLite, db is a pool of connections that read from the WAL
// without ever waiting for a writer, and w is one connection: writes of
// this process queue for it in Go (writer), each no longer than its
// context allows and at most WriteWait, so a write held up by another
// process (such as a command-line import) answers CodeUnavailable instead
// of holding up reads. On PostgreSQL db and w are the same pool.
type Store struct {
	db        *gorm.DB
	w         *gorm.DB
	writer    chan struct{} // SQLite: the token of the one writer connection; nil on PostgreSQL
	writeWait time.Duration
	path      string // the SQLite file; empty on PostgreSQL
	dialect   string
	keys      *Keyring
	now       func() time.Time
	reader    *sql.DB // s.db's pool, for quickQuery

	credentials credentialWatch
}

// Options configure Open.
type Options struct {
	// Keyring seals secrets at rest and computes keyed hashes. Required.
	Keyring *Keyring
	// Now returns the current time; time.Now when nil. Tests set it.
	Now func() time.Time
	// WriteWait bounds how long a transaction waits for the database's
	// write lock (its context may cut it shorter) before it fails with
	// CodeUnavailable; DefaultWriteWait when zero.
	WriteWait time.Duration
}

// DefaultWriteWait is how long a write waits for the write lock by default:
// long enough for other writers' short transactions, short enough for an
// interactive request to be told to retry.
const DefaultWriteWait = 5 * time.Second

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
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{dialect: dialect, keys: opts.Keyring, writeWait: opts.WriteWait, now: func() time.Time { return now().UTC() }}
	if s.writeWait <= 0 {
		s.writeWait = DefaultWriteWait
	}
	switch dialect {
	case DialectSQLite:
		err = s.openSQLite(ctx, dsn)
	case DialectPostgres:
		s.db, err = openPool(ctx, DialectPostgres, postgres.Open(dsn), func(db *sql.DB) {
			db.SetMaxOpenConns(20)
			db.SetMaxIdleConns(10)
			db.SetConnMaxIdleTime(5 * time.Minute)
		})
		s.w = s.db
	}
	if err != nil {
		return nil, err
	}
	if s.reader, err = s.db.DB(); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// SQLite connection settings. The writer waits for another process's lock
// only briefly inside SQLite (sqliteBusyStep), then again in Go, so that a
// wait honours the request's context. The readers never wait for the
// write lock in WAL mode, and they cannot write.
const (
	sqliteBusyStep    = 100 * time.Millisecond
	sqliteReaderConns = 8
)

// openSQLite opens the writer connection first (it switches the file to
// WAL, which then persists) and the pool of readers second.
func (s *Store) openSQLite(ctx context.Context, path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("create the database directory: %w", err)
		}
	}
	dsn := func(q url.Values) string {
		q.Set("_foreign_keys", "on")
		q.Set("_synchronous", "NORMAL")
		// Each connection keeps its prepared statements: preparing the
		// same few queries again was a tenth of a cheap request.
		q.Set("_stmt_cache_size", "128")
		return "file:" + path + "?" + q.Encode()
	}
	// An immediate transaction takes the write lock at BEGIN, so a writer
	// never fails with SQLITE_BUSY half-way.
	w, err := openPool(ctx, DialectSQLite, sqlite.Open(dsn(url.Values{
		"_journal_mode": {"WAL"}, "_txlock": {"immediate"},
		"_busy_timeout": {fmt.Sprint(sqliteBusyStep.Milliseconds())},
	})), func(db *sql.DB) {
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
	})
	if err != nil {
		return err
	}
	// The readers are query-only, so a write outside InTx fails at once
	// (SQLITE_READONLY) instead of bypassing the writer's queue.
	r, err := openPool(ctx, DialectSQLite, sqlite.Open(dsn(url.Values{
		"_txlock": {"deferred"}, "_busy_timeout": {fmt.Sprint(DefaultWriteWait.Milliseconds())},
		"_query_only": {"1"},
	})), func(db *sql.DB) {
		db.SetMaxOpenConns(sqliteReaderConns)
		db.SetMaxIdleConns(sqliteReaderConns)
	})
	if err != nil {
		closeGorm(w)
		return err
	}
	s.db, s.w, s.writer, s.path = r, w, make(chan struct{}, 1), path
	return nil
}

// openPool opens a gorm handle, sizes its pool and checks that it answers.
func openPool(ctx context.Context, dialect string, dial gorm.Dialector, size func(*sql.DB)) (*gorm.DB, error) {
	db, err := gorm.Open(dial, &gorm.Config{
		Logger:                                   logger.Discard,
		NowFunc:                                  func() time.Time { return time.Now().UTC() },
		DisableForeignKeyConstraintWhenMigrating: true,
		TranslateError:                           false,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	size(sqlDB)
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to the %s database: %w", dialect, err)
	}
	return db, nil
}

func closeGorm(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Dialect returns DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// Keyring returns the keyring the store seals secrets with.
func (s *Store) Keyring() *Keyring { return s.keys }

// Now returns the store's current time in UTC.
func (s *Store) Now() time.Time { return s.now() }

// quickQuery runs query, with ? for its parameters, on the read pool: a
// statement every request runs (a credential, the caller's licences, one
// page of a listing), which SQLite answers from its local file in
// microseconds. It goes straight through database/sql, because gorm's
// statement builder reads a raw statement byte by byte, which for these
// statements cost more than SQLite took to answer them.
func (s *Store) quickQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx, query = s.quickStatement(ctx, query)
	return s.reader.QueryContext(ctx, query, args...)
}

// quickQueryRow is quickQuery for a statement that reads one row.
func (s *Store) quickQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx, query = s.quickStatement(ctx, query)
	return s.reader.QueryRowContext(ctx, query, args...)
}

// quickStatement returns the context and text to run query with. Given a
// context that can end, database/sql and go-sqlite3 each start a goroutine
// per statement to watch it, to interrupt a statement that outlives its
// request: on a cheap route that was a third of the server's CPU (cmd/openlsc
// TestBenchCheapRoutes), for statements that end long before a client could
// go away. On SQLite they therefore run without the request's cancellation
// (a locked file is still bounded by the busy timeout); on PostgreSQL, a
// server over the network, they keep it, and ? becomes $n.
func (s *Store) quickStatement(ctx context.Context, query string) (context.Context, string) {
	if s.dialect == DialectSQLite {
		return context.WithoutCancel(ctx), query
	}
	return ctx, numberedParameters(query)
}

// numberedParameters writes PostgreSQL's $1, $2, … for the ? of query
// (which has no ? in a literal).
func numberedParameters(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for {
		i := strings.IndexByte(query, '?')
		if i < 0 {
			b.WriteString(query)
			return b.String()
		}
		n++
		b.WriteString(query[:i])
		b.WriteString("$" + strconv.Itoa(n))
		query = query[i+1:]
	}
}

// Gorm returns the handle for reads, for the test fixtures under models/
// only: no other package can make a rawdb.Key.
func (s *Store) Gorm(rawdb.Key) *gorm.DB { return s.db }

// Close closes the database connections.
func (s *Store) Close() error {
	err := closeGorm(s.db)
	if s.w != s.db {
		err = errors.Join(err, closeGorm(s.w))
	}
	return err
}

// Ping checks that the database answers, on both handles.
func (s *Store) Ping(ctx context.Context) error {
	for _, db := range []*gorm.DB{s.db, s.w} {
		sqlDB, err := db.DB()
		if err != nil {
			return err
		}
		if err := sqlDB.PingContext(ctx); err != nil {
			return mapError(err)
		}
	}
	return nil
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

// Gorm returns the transaction's handle, for the test fixtures under
// models/ only: no other package can make a rawdb.Key.
func (tx *Tx) Gorm(rawdb.Key) *gorm.DB { return tx.db }

// Now returns the store's current time in UTC.
func (tx *Tx) Now() time.Time { return tx.store.now() }

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise. Database errors are mapped to the error vocabulary; a
// transaction that cannot get the write lock within ctx and WriteWait fails
// with CodeUnavailable before fn runs.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return s.inTx(ctx, s.writeWait, fn)
}

// inTx is InTx waiting at most wait for the write lock.
func (s *Store) inTx(ctx context.Context, wait time.Duration, fn func(tx *Tx) error) error {
	deadline := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	release, err := s.acquireWriter(ctx, deadline)
	if err != nil {
		return err
	}
	defer release()
	var committed []func()
	for {
		began := false
		err = s.w.WithContext(ctx).Transaction(func(db *gorm.DB) error {
			began = true
			tx := &Tx{db: db, store: s}
			if err := fn(tx); err != nil {
				return err
			}
			committed = tx.onCommit
			return nil
		})
		// Another process holds the write lock: wait for it in steps that
		// notice the context, until the deadline.
		if began || !isLockBusy(err) || !pause(ctx, deadline, 20*time.Millisecond) {
			break
		}
	}
	if err != nil {
		return mapError(err)
	}
	for _, f := range committed {
		f()
	}
	return nil
}

// acquireWriter waits, until deadline, for this process's one SQLite writer;
// on PostgreSQL it returns at once.
func (s *Store) acquireWriter(ctx context.Context, deadline time.Time) (release func(), err error) {
	if s.writer == nil {
		return func() {}, nil
	}
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	default:
	}
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-wctx.Done():
		return nil, errBusy(wctx.Err())
	}
}

// pause sleeps for step, or less when deadline comes first, and reports
// whether it is still worth trying (the deadline has not passed and ctx is
// not done).
func pause(ctx context.Context, deadline time.Time, step time.Duration) bool {
	left := time.Until(deadline)
	if left <= 0 || ctx.Err() != nil {
		return false
	}
	t := time.NewTimer(min(step, left))
	defer t.Stop()
	select {
	case <-t.C:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

// errBusy is the answer to a write that waited for the write lock too long.
func errBusy(cause error) *Error {
	return &Error{Code: CodeUnavailable, Key: "err.busy", Message: "The service is busy. Please try again in a few seconds.", Err: cause}
}

// mapError maps driver errors to the error vocabulary: unique violations
// become conflicts, missing rows not found, a database that is down,
// read-only, full or locked unavailable; Errors pass through unchanged.
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
	if isLockBusy(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return errBusy(err)
	}
	if isUnavailable(err) {
		return &Error{Code: CodeUnavailable, Key: "err.unavailable", Message: "The service is unavailable. Please try again shortly.", Err: err}
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

// isLockBusy reports whether err says another connection holds a lock the
// statement needed (SQLITE_BUSY, SQLITE_LOCKED, PostgreSQL lock_not_available).
func isLockBusy(err error) bool {
	var sqErr sqlite3.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code == sqlite3.ErrBusy || sqErr.Code == sqlite3.ErrLocked
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}

// isUnavailable reports whether err is a fault of the database rather than
// of the request: no connection, a server shutting down or out of
// connections, storage that is read-only, full or failing.
func isUnavailable(err error) bool {
	var sqErr sqlite3.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code {
		case sqlite3.ErrReadonly, sqlite3.ErrFull, sqlite3.ErrIoErr, sqlite3.ErrCantOpen, sqlite3.ErrNotADB, sqlite3.ErrCorrupt:
			return true
		}
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"),  // insufficient resources: disk full, too many connections
			strings.HasPrefix(pgErr.Code, "57P"), // admin shutdown, crash shutdown, cannot connect now
			pgErr.Code == "25006":                // read-only transaction (a standby, or read-only by setting)
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		pgconn.Timeout(err) || strings.Contains(err.Error(), "conn closed")
}

// probeWait bounds the readiness probe's wait for the write lock.
const probeWait = time.Second

// minFreeBytes is the free space below which a SQLite database's disk
// counts as full.
const minFreeBytes = 1 << 20

// ProbeWrite checks that the database accepts a write (and, on SQLite, that
// its disk has room left): it rewrites, in a
// committed transaction, the newest row of the migration history with the
// values it has (nothing changes, but the write reaches the disk). A
// database that is read-only, full or failing fails it with
// CodeUnavailable. Waiting for a lock another writer holds (such as an
// import) is not a failure: writes queue, they do not fail.
func (s *Store) ProbeWrite(ctx context.Context) error {
	if s.path != "" {
		// SQLite rewrites WAL pages it already has, so a full disk can go
		// unnoticed by a small write until the next one that grows a file.
		free, err := freeBytes(filepath.Dir(s.path))
		if err == nil && free < minFreeBytes {
			return &Error{Code: CodeUnavailable, Key: "err.unavailable", Message: "The database's disk is full.",
				Err: fmt.Errorf("%d bytes free on the file system of %s", free, s.path)}
		}
	}
	err := s.inTx(ctx, probeWait, func(tx *Tx) error {
		return tx.db.Exec("UPDATE goose_db_version SET is_applied = is_applied WHERE id = (SELECT MAX(id) FROM goose_db_version)").Error
	})
	var e *Error
	if errors.As(err, &e) && e.Code == CodeUnavailable && (isLockBusy(e.Err) || errors.Is(e.Err, context.DeadlineExceeded)) && ctx.Err() == nil {
		return nil
	}
	return err
}
