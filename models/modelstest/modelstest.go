// Package modelstest opens throwaway, migrated databases for tests: a SQLite
// file in the test's temporary directory, or, when OPENLSC_TEST_DATABASE_URL
// names a PostgreSQL server, a fresh database on it that is dropped after
// the test.
package modelstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/openlsc/openlsc/models"
)

// EnvURL is the environment variable naming a PostgreSQL server (any
// database on it, as a user allowed to create databases) for tests.
const EnvURL = "OPENLSC_TEST_DATABASE_URL"

// Secret is the secret key test stores are opened with.
const Secret = "modelstest-secret-key-0123456789abcdef"

// Keyring returns the keyring for Secret.
func Keyring(tb testing.TB) *models.Keyring {
	tb.Helper()
	k, err := models.NewKeyring(Secret)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// URL returns the URL of a new, empty database for the test, removed when
// the test ends.
func URL(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv(EnvURL)
	if admin == "" {
		return filepath.Join(tb.TempDir(), "openlsc.db")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "openlsc_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// New returns a migrated store on a new database, closed when the test ends.
func New(tb testing.TB) *models.Store {
	tb.Helper()
	return Open(tb, URL(tb), models.Options{Keyring: Keyring(tb)})
}

// Open opens and migrates the database at rawURL, closed when the test ends.
func Open(tb testing.TB, rawURL string, opts models.Options) *models.Store {
	tb.Helper()
	ctx := context.Background()
	s, err := models.Open(ctx, rawURL, opts)
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		tb.Fatalf("migrate test database: %v", err)
	}
	return s
}

// Name describes the database the tests run on, for log lines.
func Name() string {
	if os.Getenv(EnvURL) != "" {
		return "postgres"
	}
	return "sqlite"
}

// Snapshot is every row an import can write, read in id order, for
// before-and-after comparisons with reflect.DeepEqual.
type Snapshot struct {
	Orgs         []models.Organization
	Agreements   []models.Agreement
	Contacts     []models.AgreementContact
	Products     []models.Product
	Versions     []models.ProductVersion
	Files        []models.ProductFile
	Entitlements []models.Entitlement
	Keys         []models.ProductKey
	Audit        []models.AuditEvent
}

// Snap reads a Snapshot of s.
func Snap(tb testing.TB, s *models.Store) Snapshot {
	tb.Helper()
	var sn Snapshot
	for _, dst := range []any{&sn.Orgs, &sn.Agreements, &sn.Contacts, &sn.Products, &sn.Versions,
		&sn.Files, &sn.Entitlements, &sn.Keys, &sn.Audit} {
		// A new chain per table: a reused gorm chain keeps its first table.
		if err := reader(s).Order("id").Find(dst).Error; err != nil {
			tb.Fatal(err)
		}
	}
	return sn
}
