package authz_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestLastAdministratorRace has the two administrators P and Q of a
// licence remove each other at the same moment, round after round, through
// one Authorizer or two on one database (two replicas). Exactly one removal
// may succeed; the other must fail with ErrLastAdministrator, and the
// licence must keep an administrator.
func TestLastAdministratorRace(t *testing.T) {
	for _, instances := range []int{1, 2} {
		name := map[int]string{1: "one instance", 2: "two instances"}[instances]
		t.Run(name, func(t *testing.T) {
			url := modelstest.URL(t)
			f := newFixtureAt(t, url, authz.Options{})
			azs := []*authz.Authorizer{f.a, f.a}
			stores := []*models.Store{f.s, f.s}
			if instances == 2 {
				s2 := modelstest.Open(t, url, models.Options{Keyring: modelstest.Keyring(t)})
				a2, err := authz.New(context.Background(), s2, authz.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = a2.Close() })
				azs[1], stores[1] = a2, s2
			}
			p, q := f.users["admin"], f.users["admin2"]
			f.grant("admin", "E1", models.PermAdministrator, models.SourceDirect)
			f.grant("admin2", "E1", models.PermAdministrator, models.SourceDirect)
			for round := range 50 {
				raceRound(t, round, f, azs, stores, p, q)
				if t.Failed() {
					return
				}
			}
		})
	}
}

// raceRound runs one round: P removes Q with the first Authorizer while Q
// removes P with the second; then it restores whichever was removed.
func raceRound(t *testing.T, round int, f *fixture, azs []*authz.Authorizer, stores []*models.Store, p, q int64) {
	t.Helper()
	lic := f.id("E1")
	var start sync.WaitGroup
	start.Add(1)
	errs := make([]error, 2)
	var done sync.WaitGroup
	for i, pair := range [][2]int64{{p, q}, {q, p}} {
		done.Go(func() {
			actor, target := pair[0], pair[1]
			start.Wait()
			errs[i] = stores[i].InTx(context.Background(), func(tx *models.Tx) error {
				return azs[i].Revoke(tx, models.Actor{UserID: &actor, Label: "user"}, target, lic, models.PermAdministrator, models.SourceDirect)
			})
		})
	}
	start.Done()
	done.Wait()

	admins := map[int64]bool{}
	users, err := f.a.Users(context.Background(), *lic)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Permission == models.PermAdministrator {
			admins[u.UserID] = true
		}
	}
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, authz.ErrLastAdministrator):
			t.Errorf("round %d: the losing removal failed with %v, want ErrLastAdministrator (409)", round, err)
		}
	}
	if ok != 1 || len(admins) != 1 {
		t.Fatalf("round %d: %d removals succeeded (%v); administrators left: %v", round, ok, errs, admins)
	}
	for _, u := range []int64{p, q} {
		if !admins[u] {
			f.do(func(tx *models.Tx) error {
				return f.a.Grant(tx, system, u, lic, models.PermAdministrator, models.SourceDirect)
			})
		}
	}
}

// TestFirstAdministratorRace has two operators appoint the first
// administrator of a licence that has none at the same moment, round after
// round: an operator may appoint only the first, so exactly one succeeds.
func TestFirstAdministratorRace(t *testing.T) {
	f := newFixture(t)
	ops := []int64{f.users["operator"], f.users["stranger"]}
	f.grant("operator", "", models.PermOperator, models.SourceDirect)
	f.grant("stranger", "", models.PermOperator, models.SourceDirect)
	targets := []int64{f.users["admin"], f.users["admin2"]}
	lic := f.id("V1")
	for round := range 50 {
		var start, done sync.WaitGroup
		start.Add(1)
		errs := make([]error, 2)
		for i := range 2 {
			done.Go(func() {
				start.Wait()
				errs[i] = f.s.InTx(context.Background(), func(tx *models.Tx) error {
					return f.a.Grant(tx, models.Actor{UserID: &ops[i], Label: "user"}, targets[i], lic, models.PermAdministrator, models.SourceDirect)
				})
			})
		}
		start.Done()
		done.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, authz.ErrNotAllowed):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d operators appointed a first administrator (%v)", round, ok, errs)
		}
		for _, u := range targets {
			_ = f.s.InTx(context.Background(), func(tx *models.Tx) error {
				return f.a.Revoke(tx, system, u, lic, models.PermAdministrator, models.SourceDirect)
			})
		}
	}
}
