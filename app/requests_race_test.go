package app

// Issue 9 §1: every check-then-change of access requests, invitations and
// work email confirmation holds under real parallel calls, on SQLite and
// (with OPENLSC_TEST_DATABASE_URL) PostgreSQL.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

const raceRounds = 50

type raceFixture struct {
	t     *testing.T
	ctx   context.Context
	store *models.Store
	az    *authz.Authorizer
	acc   *Accounts
	req   *Requests
	admin *Admin
	lic   int64 // E1, administered by boss
	boss  int64
	n     int // users made so far
}

func newRaceFixture(t *testing.T) *raceFixture {
	t.Helper()
	f := &raceFixture{t: t, ctx: context.Background(), store: modelstest.New(t)}
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{{Program: "enterprise", Number: "E1", Organization: "C1",
			Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}}},
	}
	if _, err := f.store.Import(f.ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "test"}}); err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(f.ctx, f.store, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = az.Close() })
	f.az = az
	f.acc = NewAccounts(f.store, az, WorkEmailOptions{})
	f.req = NewRequests(f.store, az, RequestsOptions{})
	f.admin = NewAdmin(f.store, az, AdminOptions{})
	if f.lic, err = f.store.AgreementID(f.ctx, "E1"); err != nil {
		t.Fatal(err)
	}
	f.boss = f.verified("boss@contoso.example")
	return f
}

// signedIn makes a new user who has signed in, and their identity.
func (f *raceFixture) signedIn() (user, identity int64) {
	f.t.Helper()
	f.n++
	u, id, _, err := f.store.SignIn(f.ctx, models.IdentityClaims{Issuer: "https://idp.example", Subject: fmt.Sprint("s", f.n), Name: fmt.Sprint("user ", f.n)})
	if err != nil {
		f.t.Fatal(err)
	}
	return u.ID, id.ID
}

// link records a confirmation link of email for user and returns its token.
func (f *raceFixture) link(user, identity int64, email string) string {
	f.t.Helper()
	token := randomToken(32)
	err := f.store.InTx(f.ctx, func(tx *models.Tx) error {
		return tx.CreateEmailVerification(&models.EmailVerification{UserID: user, IdentityID: identity, Email: email,
			TokenHash: hashToken(token), ExpiresAt: tx.Now().Add(time.Hour), CreatedAt: tx.Now()})
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return token
}

// verified makes a new user who has confirmed email.
func (f *raceFixture) verified(email string) int64 {
	f.t.Helper()
	user, identity := f.signedIn()
	if _, err := f.acc.VerifyWorkEmail(f.ctx, user, identity, f.link(user, identity, email), false); err != nil {
		f.t.Fatal(err)
	}
	return user
}

// parallel runs fn(0..n-1) in n goroutines released together and returns
// their errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// outcomes counts errors by kind: nil, ErrRequestFailed, each Code.
func outcomes(errs []error) map[string]int {
	out := map[string]int{}
	for _, err := range errs {
		switch {
		case err == nil:
			out["ok"]++
		case errors.Is(err, ErrRequestFailed):
			out["failed"]++
		default:
			out[string(models.ErrorCode(err))]++
		}
	}
	return out
}

var wrongRequest = RequestInput{Program: models.ProgramEnterprise, LicenseNumber: "NOPE", Permissions: []models.Permission{models.PermLicenseViewer}}

// TestAccessRequestLockoutParallel: parallel wrong requests by one user, or
// by fresh users from one client address, record exactly MaxFailures
// failures; the rest are refused as too many.
func TestAccessRequestLockoutParallel(t *testing.T) {
	f := newRaceFixture(t)
	const n = 12
	t.Run("one user", func(t *testing.T) {
		for round := range raceRounds {
			user := f.verified(fmt.Sprintf("u%d@fabrikam.example", round))
			errs := parallel(n, func(int) error {
				_, _, err := f.req.Submit(f.ctx, user, wrongRequest)
				return err
			})
			if got := outcomes(errs); got["failed"] != 5 || got[string(models.CodeTooMany)] != n-5 {
				t.Fatalf("round %d: %v, want 5 failed and %d refused", round, got, n-5)
			}
		}
	})
	t.Run("one address", func(t *testing.T) {
		for round := range raceRounds {
			users := make([]int64, n)
			for i := range users {
				users[i] = f.verified(fmt.Sprintf("r%d-%d@fabrikam.example", round, i))
			}
			addr := fmt.Sprintf("198.51.100.%d", round)
			errs := parallel(n, func(i int) error {
				in := wrongRequest
				in.ClientAddress = addr
				_, _, err := f.req.Submit(f.ctx, users[i], in)
				return err
			})
			if got := outcomes(errs); got["failed"] != 5 || got[string(models.CodeTooMany)] != n-5 {
				t.Fatalf("round %d: %v, want 5 failed and %d refused", round, got, n-5)
			}
		}
		// Another address still has its allowance.
		in := wrongRequest
		in.ClientAddress = "203.0.113.1"
		if _, _, err := f.req.Submit(f.ctx, f.verified("fresh@fabrikam.example"), in); !errors.Is(err, ErrRequestFailed) {
			t.Errorf("another address: %v", err)
		}
	})
}

// TestDecideParallel: of parallel approvals and denials of one request,
// exactly one decides it; the others are told it is decided.
func TestDecideParallel(t *testing.T) {
	f := newRaceFixture(t)
	in := RequestInput{Program: models.ProgramEnterprise, LicenseNumber: "E1", Permissions: []models.Permission{models.PermLicenseViewer}}
	for round := range raceRounds {
		requester := f.verified(fmt.Sprintf("q%d@fabrikam.example", round))
		view, _, err := f.req.Submit(f.ctx, requester, in)
		if err != nil {
			t.Fatal(err)
		}
		errs := parallel(6, func(i int) error {
			if i%2 == 0 {
				return f.req.Approve(f.ctx, f.boss, view.ID, nil)
			}
			return f.req.Deny(f.ctx, f.boss, view.ID, "no")
		})
		if got := outcomes(errs); got["ok"] != 1 || got[string(models.CodeConflict)] != 5 {
			t.Fatalf("round %d: %v, want one decision and 5 conflicts", round, got)
		}
		mine, err := f.req.Mine(f.ctx, requester)
		if err != nil {
			t.Fatal(err)
		}
		if st := mine[0].Status; st != models.RequestApproved && st != models.RequestDenied {
			t.Fatalf("round %d: status %s", round, st)
		}
		if approved := mine[0].Status == models.RequestApproved; f.az.Can(requester, f.lic, authz.ActView) != approved {
			t.Fatalf("round %d: %s, yet the requester's access is %v", round, mine[0].Status, !approved)
		}
	}
}

// TestConfirmationLinkOnceParallel: a confirmation link opened several
// times at once confirms once; the others are told it was used.
func TestConfirmationLinkOnceParallel(t *testing.T) {
	f := newRaceFixture(t)
	for round := range raceRounds {
		user, identity := f.signedIn()
		token := f.link(user, identity, fmt.Sprintf("l%d@fabrikam.example", round))
		errs := parallel(6, func(int) error {
			_, err := f.acc.VerifyWorkEmail(f.ctx, user, identity, token, false)
			return err
		})
		if got := outcomes(errs); got["ok"] != 1 || got[string(models.CodeConflict)] != 5 {
			t.Fatalf("round %d: %v, want one confirmation and 5 conflicts", round, got)
		}
	}
}

// TestInvitationAcceptedOnceParallel: two people confirming the invited
// email at once: one confirms it and gets the invitation, the other finds
// the email taken; the invitation is accepted once.
func TestInvitationAcceptedOnceParallel(t *testing.T) {
	f := newRaceFixture(t)
	for round := range raceRounds {
		email := fmt.Sprintf("i%d@fabrikam.example", round)
		err := f.admin.AddUser(f.ctx, f.boss, f.lic, AddUserInput{Email: email, Permissions: []models.Permission{models.PermKeyReader}})
		if err != nil {
			t.Fatal(err)
		}
		var users, identities [2]int64
		var links [2]string
		for i := range 2 {
			users[i], identities[i] = f.signedIn()
			links[i] = f.link(users[i], identities[i], email)
		}
		errs := parallel(2, func(i int) error {
			_, err := f.acc.VerifyWorkEmail(f.ctx, users[i], identities[i], links[i], false)
			return err
		})
		if got := outcomes(errs); got["ok"] != 1 || got[string(models.CodeConflict)] != 1 {
			t.Fatalf("round %d: %v, want one confirmation and one conflict", round, got)
		}
		holders := 0
		for _, u := range users {
			if f.az.Can(u, f.lic, authz.ActReadKeys) {
				holders++
			}
		}
		if holders != 1 {
			t.Fatalf("round %d: %d people hold the invited permission", round, holders)
		}
	}
}

// TestIdenticalRequestsParallel: identical requests filed at once make one
// pending request; the others return it.
func TestIdenticalRequestsParallel(t *testing.T) {
	f := newRaceFixture(t)
	in := RequestInput{Program: models.ProgramEnterprise, LicenseNumber: "E1", Permissions: []models.Permission{models.PermKeyReader}}
	for round := range raceRounds {
		requester := f.verified(fmt.Sprintf("d%d@fabrikam.example", round))
		var mu sync.Mutex
		created, ids := 0, map[int64]bool{}
		errs := parallel(6, func(int) error {
			view, isNew, err := f.req.Submit(f.ctx, requester, in)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			ids[view.ID] = true
			if isNew {
				created++
			}
			return nil
		})
		if got := outcomes(errs); got["ok"] != 6 || created != 1 || len(ids) != 1 {
			t.Fatalf("round %d: %v, %d created, ids %v; want one request", round, got, created, ids)
		}
	}
}

// TestInviteWhileConfirmingParallel: an administrator adding a person while
// that person confirms their email: either way the person ends up with the
// permission (no invitation is left behind unaccepted).
func TestInviteWhileConfirmingParallel(t *testing.T) {
	f := newRaceFixture(t)
	for round := range raceRounds {
		email := fmt.Sprintf("w%d@fabrikam.example", round)
		user, identity := f.signedIn()
		token := f.link(user, identity, email)
		errs := parallel(2, func(i int) error {
			if i == 0 {
				return f.admin.AddUser(f.ctx, f.boss, f.lic, AddUserInput{Email: email, Permissions: []models.Permission{models.PermKeyReader}})
			}
			_, err := f.acc.VerifyWorkEmail(f.ctx, user, identity, token, false)
			return err
		})
		if got := outcomes(errs); got["ok"] != 2 {
			t.Fatalf("round %d: %v", round, got)
		}
		if !f.az.Can(user, f.lic, authz.ActReadKeys) {
			t.Fatalf("round %d: the person confirmed and was added, yet holds nothing", round)
		}
	}
}
