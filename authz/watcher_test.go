package authz_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// other starts a second Authorizer, on a store of its own, over the
// database at url, as another replica would, and returns it with a channel
// of the changes it applies.
func other(t *testing.T, url string, opts authz.Options) (*authz.Authorizer, <-chan authz.Change) {
	t.Helper()
	applied := make(chan authz.Change, 64)
	opts.OnApply = func(c authz.Change, err error) {
		if err != nil {
			t.Errorf("applying %+v: %v", c, err)
		}
		applied <- c
	}
	a, err := authz.New(context.Background(), modelstest.Open(t, url, models.Options{Keyring: modelstest.Keyring(t)}), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a, applied
}

// eventually waits until ok holds, reading applied changes meanwhile, and
// returns how long it took.
func eventually(t *testing.T, what string, applied <-chan authz.Change, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := time.After(10 * time.Second)
	for !ok() {
		select {
		case <-applied:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s: the other instance did not see the change", what)
		}
	}
	return time.Since(start)
}

// TestTwoInstances runs two Authorizers on one database (a SQLite file or
// PostgreSQL), as two replicas, or a server and an import run beside it,
// would, and checks that every committed change made through one reaches
// the other within a second, that rolled-back changes do not, and that
// an import by a third process is seen without being announced.
func TestTwoInstances(t *testing.T) {
	url := modelstest.URL(t)
	one := newFixtureAt(t, url, authz.Options{})
	opts := authz.Options{}
	if os.Getenv(modelstest.EnvURL) != "" {
		opts.ListenURL = url
	}
	two, applied := other(t, url, opts)

	admin, lic := one.users["admin"], one.lic["E1"]
	if two.Can(admin, lic, authz.ActManage) {
		t.Fatal("administrator before the grant")
	}
	start := time.Now()
	one.grant("admin", "E1", models.PermAdministrator, models.SourceDirect)
	eventually(t, "grant", applied, func() bool { return two.Can(admin, lic, authz.ActManage) })
	took := time.Since(start)
	t.Logf("propagation on %s: %v", modelstest.Name(), took)
	if took > time.Second {
		t.Errorf("propagation took %v, more than 1 s", took)
	}

	// A rolled-back change is not journaled: the other instance never
	// sees it, though it sees the committed change that follows.
	_ = one.s.InTx(context.Background(), func(tx *models.Tx) error {
		if err := one.a.Grant(tx, system, one.users["viewer"], one.id("E1"), models.PermLicenseViewer, models.SourceDirect); err != nil {
			return err
		}
		return context.Canceled
	})
	one.grant("keyreader", "E1", models.PermKeyReader, models.SourceDirect)
	eventually(t, "grant after a rollback", applied, func() bool { return two.Can(one.users["keyreader"], lic, authz.ActReadKeys) })
	if two.Can(one.users["viewer"], lic, authz.ActView) {
		t.Error("the rolled-back grant reached the other instance")
	}

	one.do(func(tx *models.Tx) error {
		return one.a.Revoke(tx, system, admin, one.id("E1"), models.PermAdministrator, models.SourceDirect)
	})
	eventually(t, "revoke", applied, func() bool { return !two.Can(admin, lic, authz.ActManage) })

	// Inheritance, then an import by another process that adds an
	// agreement under the MBSA, with no announcement.
	one.grant("mbsa", "M1", models.PermAdministrator, models.SourceDirect)
	one.inherit("mbsa", "M1", true)
	eventually(t, "inheritance", applied, func() bool { return two.Can(one.users["mbsa"], lic, authz.ActManage) })
	importer := modelstest.Open(t, url, models.Options{Keyring: modelstest.Keyring(t)})
	doc := &models.ImportDocument{Agreements: []models.ImportAgreement{{Program: "enterprise", Number: "E4", Organization: "C1", Parent: "M1"}}}
	res, err := importer.Import(context.Background(), doc, models.ImportOptions{Actor: system})
	if err != nil {
		t.Fatal(err)
	}
	e4 := res.ChangedAgreements[0]
	eventually(t, "import", applied, func() bool { return two.Can(one.users["mbsa"], e4, authz.ActManage) })
	eventually(t, "import, on the first instance", nil, func() bool { return one.a.Can(one.users["mbsa"], e4, authz.ActManage) })
}

// TestDroppedListener cuts the PostgreSQL listening connection of an
// instance that does not poll and checks that a change committed while it
// was away still arrives: the journal keeps it, and reconnecting reads it.
func TestDroppedListener(t *testing.T) {
	if os.Getenv(modelstest.EnvURL) == "" {
		t.Skip("LISTEN/NOTIFY needs PostgreSQL; set " + modelstest.EnvURL)
	}
	url := modelstest.URL(t)
	one := newFixtureAt(t, url, authz.Options{PollInterval: -1})
	two, applied := other(t, url, authz.Options{ListenURL: url, PollInterval: time.Hour})
	lic := one.lic["E1"]
	for round := range 3 {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		// The listener (re)connects in the background: wait until it is
		// there, then cut it.
		var n int
		for deadline := time.Now().Add(10 * time.Second); ; {
			err = conn.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'openlsc-authz-%' AND datname = current_database()").Scan(&n)
			if err != nil || n != 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = conn.Close(ctx)
		if err != nil || n != 1 {
			t.Fatalf("round %d: terminate the listener: %d, %v", round, n, err)
		}
		user := []string{"viewer", "downloader", "keyreader"}[round]
		one.grant(user, "E1", models.PermLicenseViewer, models.SourceDirect)
		eventually(t, "a change made while disconnected", applied, func() bool { return two.Can(one.users[user], lic, authz.ActView) })
	}
}

// TestJournalPrune checks that pruning keeps the newest entry, so that ids
// keep growing.
func TestJournalPrune(t *testing.T) {
	f := newFixture(t)
	f.grant("admin", "E1", models.PermAdministrator, models.SourceDirect)
	f.grant("viewer", "E1", models.PermLicenseViewer, models.SourceDirect)
	ctx := context.Background()
	last, err := f.s.LastAuthzChange(ctx)
	if err != nil || last == 0 {
		t.Fatalf("LastAuthzChange = %d, %v", last, err)
	}
	n, err := f.s.PruneAuthzChanges(ctx, f.s.Now().Add(time.Hour))
	if err != nil || n == 0 {
		t.Fatalf("PruneAuthzChanges = %d, %v", n, err)
	}
	if got, _ := f.s.LastAuthzChange(ctx); got != last {
		t.Errorf("after pruning the newest entry is %d, want %d", got, last)
	}
	f.grant("keyreader", "E1", models.PermKeyReader, models.SourceDirect)
	entries, err := f.s.AuthzChangesAfter(ctx, last, 10)
	if err != nil || len(entries) != 1 || entries[0].ID <= last {
		t.Errorf("entries after pruning: %+v, %v", entries, err)
	}
}
