package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// fakeClock is a monotonic clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestCredentialMemory: a value is remembered until credentialTTL has
// passed; forgetting users drops just theirs, forgetting nil drops all; a
// value read before a forget is not stored after it; and the memory stays
// within its bound.
func TestCredentialMemory(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	m := newCredentialMemory[string]()
	m.now = clock.Now
	generation := func() uint64 { _, gen, _ := m.get(""); return gen }
	m.put("a", 1, "alice", generation())
	m.put("b", 2, "bob", generation())
	if v, _, ok := m.get("a"); !ok || v != "alice" {
		t.Fatalf("get a: %q %v", v, ok)
	}
	clock.Add(credentialTTL - time.Millisecond)
	if _, _, ok := m.get("a"); !ok {
		t.Error("a is forgotten before credentialTTL has passed")
	}
	clock.Add(time.Millisecond)
	if _, _, ok := m.get("a"); ok {
		t.Error("a is still remembered once credentialTTL has passed")
	}

	m.put("a", 1, "alice", generation())
	m.put("b", 2, "bob", generation())
	m.forget([]int64{2})
	if _, _, ok := m.get("a"); !ok {
		t.Error("forgetting user 2 dropped user 1's credential")
	}
	if _, _, ok := m.get("b"); ok {
		t.Error("forgetting user 2 kept their credential")
	}
	m.forget(nil)
	if _, _, ok := m.get("a"); ok {
		t.Error("forgetting everyone kept user 1's credential")
	}

	gen := generation()  // a read begins…
	m.forget([]int64{3}) // …a change commits meanwhile…
	m.put("c", 1, "stale", gen)
	if _, _, ok := m.get("c"); ok {
		t.Error("a value read before a forget was stored after it")
	}
	m.put("d", 1, "old", generation())
	_, gen, _ = m.get("d")
	m.forget([]int64{1})
	m.put("d", 1, "new", generation())
	m.update("d", "old, touched", gen)
	if v, _, _ := m.get("d"); v != "new" {
		t.Errorf("an update of a value got before a forget replaced the one read after it: %q", v)
	}

	for i := range credentialsRemembered + 10 {
		m.put(fmt.Sprint("k", i), int64(i), "v", generation())
	}
	if n := len(m.entries); n > credentialsRemembered {
		t.Errorf("%d credentials remembered, more than the bound %d", n, credentialsRemembered)
	}
}

// TestTokenChangesSeenAtOnceHereAndSoonElsewhere, on two stores over one
// database (two servers): a withdrawn work email and a revoked token are
// seen by the very next Authenticate of the server that made the change,
// and by the other server once credentialTTL has passed, while it may
// still answer from memory before.
func TestTokenChangesSeenAtOnceHereAndSoonElsewhere(t *testing.T) {
	ctx := context.Background()
	url := modelstest.URL(t)
	here := NewTokens(modelstest.Open(t, url, models.Options{Keyring: modelstest.Keyring(t)}))
	there := NewTokens(modelstest.Open(t, url, models.Options{Keyring: modelstest.Keyring(t)}))
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	there.memory.now = clock.Now

	user, _, _, err := here.store.SignIn(ctx, models.IdentityClaims{Issuer: "https://idp.example", Subject: "s1", Name: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	err = here.store.InTx(ctx, func(tx *models.Tx) error { return tx.ConfirmWorkEmail(user.ID, "ann@contoso.example") })
	if err != nil {
		t.Fatal(err)
	}
	tok, err := here.Create(ctx, user.ID, "ci", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	verified := func(tokens *Tokens) bool {
		t.Helper()
		u, err := tokens.Authenticate(ctx, tok.Token)
		if err != nil {
			t.Fatal(err)
		}
		return u.WorkEmailVerifiedAt != nil
	}
	if !verified(here) || !verified(there) {
		t.Fatal("the confirmed work email is not seen")
	}

	err = here.store.InTx(ctx, func(tx *models.Tx) error { return tx.UnconfirmWorkEmail(user.ID) })
	if err != nil {
		t.Fatal(err)
	}
	if verified(here) {
		t.Error("this server still sees the withdrawn work email as confirmed")
	}
	clock.Add(credentialTTL)
	if verified(there) {
		t.Errorf("the other server still sees the withdrawn work email as confirmed after %s", credentialTTL)
	}

	if err := here.Revoke(ctx, user.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := here.Authenticate(ctx, tok.Token); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("this server, right after the revocation: %v, want ErrInvalidToken", err)
	}
	clock.Add(credentialTTL)
	if _, err := there.Authenticate(ctx, tok.Token); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("the other server, %s after the revocation: %v, want ErrInvalidToken", credentialTTL, err)
	}
}

// TestTokenRevocationRacesAuthentication: while requests authenticate with
// a token in parallel, the token is revoked; every Authenticate that begins
// after Revoke has returned must refuse it, even when a read that began
// before the revocation stores what it read after it. 50 rounds.
func TestTokenRevocationRacesAuthentication(t *testing.T) {
	ctx := context.Background()
	store := modelstest.New(t)
	tokens := NewTokens(store)
	const rounds, racers = 50, 4
	for round := range rounds {
		user, _, _, err := store.SignIn(ctx, models.IdentityClaims{Issuer: "https://idp.example", Subject: fmt.Sprint("r", round), Name: "Racer"})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := tokens.Create(ctx, user.ID, "ci", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var revoked atomic.Bool
		var after atomic.Int64 // accepted after the revocation returned
		var checked atomic.Int64
		var wg sync.WaitGroup
		for range racers {
			wg.Go(func() {
				for checked.Load() < 20 {
					began := revoked.Load()
					_, err := tokens.Authenticate(ctx, tok.Token)
					if err != nil && !errors.Is(err, ErrInvalidToken) {
						t.Error(err)
						return
					}
					if began {
						checked.Add(1)
						if err == nil {
							after.Add(1)
						}
					}
				}
			})
		}
		time.Sleep(time.Duration(round%5) * time.Millisecond)
		if err := tokens.Revoke(ctx, user.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		revoked.Store(true)
		wg.Wait()
		if n := after.Load(); n > 0 {
			t.Fatalf("round %d (%s): the revoked token was accepted %d times after Revoke returned", round, modelstest.Name(), n)
		}
	}
}
