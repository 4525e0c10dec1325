package modelstest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openlsc/openlsc/models"
)

// SetReadOnly makes the cluster read-only (default_transaction_read_only,
// as a standby or a full disk's emergency setting would) or writable again,
// and returns once the server has applied the setting to every session.
func (c *Cluster) SetReadOnly(on bool) {
	c.tb.Helper()
	value := "off"
	if on {
		value = "on"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		c.tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ALTER SYSTEM SET default_transaction_read_only = "+value); err != nil {
		c.tb.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		c.tb.Fatal(err)
	}
	// pg_reload_conf only signals the server. Once a new session sees
	// the setting, the server has reloaded and signalled every session
	// (a session applies it before its next command).
	for deadline := time.Now().Add(10 * time.Second); ; {
		fresh, err := pgx.Connect(ctx, c.URL())
		if err != nil {
			c.tb.Fatal(err)
		}
		var got string
		err = fresh.QueryRow(ctx, "SHOW default_transaction_read_only").Scan(&got)
		fresh.Close(ctx)
		if err != nil {
			c.tb.Fatal(err)
		}
		if got == value {
			return
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("default_transaction_read_only is still %s", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TerminateConnections cuts every connection to the database at rawURL
// whose application_name starts with prefix, as a failing network or an
// administrator would, and returns how many it cut.
func TerminateConnections(tb testing.TB, rawURL, prefix string) int {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "+
		"WHERE starts_with(application_name, $1) AND datname = current_database()", prefix).Scan(&n)
	if err != nil {
		tb.Fatalf("terminate connections: %v", err)
	}
	return n
}

// LockWaiters returns how many sessions of s's PostgreSQL database wait
// for an advisory lock (such as Tx.LockAuthz's), so a test can tell that a
// transaction is blocked; 0 on SQLite.
func LockWaiters(tb testing.TB, s *models.Store) int {
	tb.Helper()
	if s.Dialect() != models.DialectPostgres {
		return 0
	}
	var n int
	err := reader(s).Raw("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted " +
		"AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").Scan(&n).Error
	if err != nil {
		tb.Fatalf("count lock waiters: %v", err)
	}
	return n
}
