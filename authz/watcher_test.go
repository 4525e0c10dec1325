package authz_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestTwoInstances runs two Authorizers on one PostgreSQL database, as two
// replicas would, and checks that a change on one reaches the other, also
// after the other's listening connection was cut.
func TestTwoInstances(t *testing.T) {
	if os.Getenv(modelstest.EnvURL) == "" {
		t.Skip("several instances share PostgreSQL only; set " + modelstest.EnvURL)
	}
	url := modelstest.URL(t)
	one := newFixtureAt(t, url, authz.Options{ListenURL: url})
	applied := make(chan authz.Change, 16)
	other, err := authz.New(context.Background(), modelstest.Open(t, url, models.Options{Keyring: modelstest.Keyring(t)}),
		authz.Options{ListenURL: url, OnApply: func(c authz.Change, err error) {
			if err != nil {
				t.Errorf("applying %+v: %v", c, err)
			}
			applied <- c
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	wait := func(what string, reload bool) time.Duration {
		t.Helper()
		start := time.Now()
		for {
			select {
			case c := <-applied:
				if c.Reload == reload {
					return time.Since(start)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: the other instance heard nothing", what)
			}
		}
	}

	admin, lic := one.users["admin"], one.lic["E1"]
	start := time.Now()
	one.grant("admin", "E1", models.PermAdministrator, models.SourceDirect)
	wait("grant", false)
	took := time.Since(start)
	if !other.Can(admin, lic, authz.ActManage) {
		t.Fatal("the other instance does not see the grant")
	}
	t.Logf("propagation: %v", took)
	if took > time.Second {
		t.Errorf("propagation took %v, more than 1 s", took)
	}

	// A rolled-back change is not announced: the next thing heard is the
	// following committed one.
	_ = one.s.InTx(context.Background(), func(tx *models.Tx) error {
		if err := one.a.Grant(tx, system, one.users["viewer"], one.id("E1"), models.PermLicenseViewer, models.SourceDirect); err != nil {
			return err
		}
		return context.Canceled
	})
	one.grant("mbsa", "M1", models.PermAdministrator, models.SourceDirect)
	c := <-applied
	if len(c.Users) != 1 || c.Users[0] != one.users["mbsa"] {
		t.Errorf("first change heard after a rollback: %+v", c)
	}
	if other.Can(one.users["viewer"], lic, authz.ActView) {
		t.Error("the rolled-back grant reached the other instance")
	}

	// Cut the other instance's listening connection; a change made while
	// it is away arrives through the reload after it reconnects.
	var n int64
	err = one.s.DB().Raw("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'openlsc-authz-%' AND application_name <> ?) x",
		"none").Scan(&n).Error
	if err != nil || n < 1 {
		t.Fatalf("terminate listeners: %d, %v", n, err)
	}
	one.do(func(tx *models.Tx) error {
		return one.a.Revoke(tx, system, admin, one.id("E1"), models.PermAdministrator, models.SourceDirect)
	})
	wait("reconnect", true)
	if other.Can(admin, lic, authz.ActManage) {
		t.Error("after reconnecting, the other instance still sees a revoked grant")
	}
	// And it keeps listening afterwards.
	one.grant("keyreader", "E1", models.PermKeyReader, models.SourceDirect)
	deadline := time.After(10 * time.Second)
	for !other.Can(one.users["keyreader"], lic, authz.ActReadKeys) {
		select {
		case <-applied:
		case <-deadline:
			t.Fatal("no change heard after reconnecting")
		}
	}

	// An import in another process announces the agreements it added.
	one.inherit("mbsa", "M1", true)
	doc := &models.ImportDocument{Agreements: []models.ImportAgreement{{Program: "enterprise", Number: "E4", Organization: "C1", Parent: "M1"}}}
	res, err := one.s.Import(context.Background(), doc, models.ImportOptions{Actor: system})
	if err != nil {
		t.Fatal(err)
	}
	if err := authz.AnnounceAgreements(context.Background(), one.s, res.ChangedAgreements); err != nil {
		t.Fatal(err)
	}
	e4 := res.ChangedAgreements[0]
	deadline = time.After(10 * time.Second)
	for !other.Can(one.users["mbsa"], e4, authz.ActManage) {
		select {
		case <-applied:
		case <-deadline:
			t.Fatal("the other instance did not pick up the imported agreement")
		}
	}
}
