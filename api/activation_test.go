package api_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/api/limits"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

const (
	actMAK     = "MAKAA-BBBBB-CCCCC-DDDDD-3LEFT"
	actExpired = "MAKEX-BBBBB-CCCCC-DDDDD-EXPRD"
	actBlocked = "MAKBL-BBBBB-CCCCC-DDDDD-BLOCK"
)

// activationEnv is the activation service on a throwaway database, served
// over HTTP with generous rate limits.
type activationEnv struct {
	ctx    context.Context
	store  *models.Store
	act    *app.Activations
	client *activation.Client
}

func i64p(n int64) *int64 { return &n }

func newActivationEnv(t *testing.T, keys []models.ImportKey, lim *limits.Limiter) *activationEnv {
	t.Helper()
	t.Logf("database: %s", modelstest.Name())
	env := &activationEnv{ctx: context.Background()}
	env.store = modelstest.Open(t, modelstest.URL(t), models.Options{Keyring: modelstest.Keyring(t)})
	ent := "Enterprise"
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{
			{Program: "open_value", Number: "V1", Organization: "C1", Starts: "2026-01-01", Ends: "2099-12-31"},
			{Program: "open_value", Number: "OLD", Organization: "C1", Starts: "2020-01-01", Ends: "2021-12-31"},
		},
		Products: []models.ImportProduct{
			{ID: "win-ent", Name: "Windows Enterprise", Versions: []models.ImportVersion{{Version: "11", Edition: ent}}},
			{ID: "office", Name: "Office", Versions: []models.ImportVersion{{Version: "2024"}}},
		},
		Entitlements: []models.ImportEntitlement{{Agreement: "V1", Product: "win-ent", Version: "11", Edition: &ent}},
		Keys:         keys,
	}
	if _, err := env.store.Import(env.ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	if lim == nil {
		lim = limits.New(time.Nanosecond, 1<<20)
	}
	env.act = app.NewActivations(env.store, nil, app.ActivationsOptions{})
	s, err := api.New(api.Options{Logger: slog.New(slog.DiscardHandler), Activations: env.act, Limits: &limits.Set{Activation: lim}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	env.client = &activation.Client{BaseURL: srv.URL, HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	return env
}

// key returns the key with material key (in licence V1 unless elsewhere).
func (env *activationEnv) key(t *testing.T, key string) models.ActivationKey {
	t.Helper()
	var found []models.ActivationKey
	err := env.store.InTx(env.ctx, func(tx *models.Tx) (err error) {
		found, err = tx.ActivationKeys(env.store.Keyring().KeyFingerprint(key))
		return err
	})
	if err != nil || len(found) != 1 {
		t.Fatalf("key %s: %v %v", key, found, err)
	}
	return found[0]
}

// used returns the activations used of key, as the keys page shows them.
func (env *activationEnv) used(t *testing.T, key string) int64 {
	t.Helper()
	k, err := env.store.KeyListing(env.ctx, env.key(t, key).ID)
	if err != nil || k.ActivationsUsed == nil {
		t.Fatalf("listing: %v %v", k, err)
	}
	return *k.ActivationsUsed
}

// machine is a four-component installation identity numbered n; changed
// replaces its first changed components.
func machine(n, changed int) activation.Identity {
	parts := map[string]string{}
	for i, kind := range []string{"board", "disk", "mac", "cpu"} {
		v := fmt.Sprintf("%s-%d", kind, n)
		if i < changed {
			v += "-new"
		}
		parts[kind] = v
	}
	return activation.NewIdentity(parts)
}

func refusal(t *testing.T, err error) string {
	t.Helper()
	var e *activation.Error
	if !errors.As(err, &e) {
		t.Fatalf("not a refusal: %v", err)
	}
	return e.Code
}

func TestActivationOnline(t *testing.T) {
	env := newActivationEnv(t, []models.ImportKey{
		{Agreement: "V1", Product: "win-ent", Type: "mak", Key: actMAK, ActivationLimit: i64p(3), ActivationsUsed: i64p(0)},
		{Agreement: "OLD", Product: "win-ent", Type: "mak", Key: actExpired, ActivationLimit: i64p(3), ActivationsUsed: i64p(0)},
		{Agreement: "V1", Product: "win-ent", Type: "mak", Key: actBlocked, ActivationLimit: i64p(3), ActivationsUsed: i64p(0)},
	}, nil)
	ctx := env.ctx
	ks, err := env.client.Keys(ctx)
	if err != nil || len(ks.Keys) != 1 || !ks.Keys[0].Current {
		t.Fatalf("keys: %+v %v", ks, err)
	}
	for n := 1; n <= 3; n++ {
		cert, err := env.client.Activate(ctx, actMAK, "win-ent", machine(n, 0))
		if err != nil {
			t.Fatalf("machine %d: %v", n, err)
		}
		claims, err := ks.VerifyFor(cert, "win-ent", machine(n, 0))
		if err != nil || claims.KeySuffix != "3LEFT" || claims.ValidUntil != "2099-12-31" {
			t.Fatalf("certificate %d: %+v %v", n, claims, err)
		}
		if _, err := ks.VerifyFor(cert, "win-ent", machine(n+10, 0)); err == nil {
			t.Error("a certificate verified for another machine")
		}
	}
	if got := env.used(t, actMAK); got != 3 {
		t.Fatalf("used %d, want 3", got)
	}
	_, err = env.client.Activate(ctx, actMAK, "win-ent", machine(4, 0))
	if refusal(t, err) != activation.CodeLimitReached || err.(*activation.Error).HResult != "0xC004C020" {
		t.Errorf("over the limit: %v", err)
	}
	// The same machine again, and with a new motherboard (3 of 4 match): no activation used.
	for _, id := range []activation.Identity{machine(1, 0), machine(2, 1)} {
		if _, err := env.client.Activate(ctx, actMAK, "win-ent", id); err != nil {
			t.Errorf("repeat activation: %v", err)
		}
	}
	// Two of four changed: a new installation, refused at the limit.
	if _, err := env.client.Activate(ctx, actMAK, "win-ent", machine(3, 2)); refusal(t, err) != activation.CodeLimitReached {
		t.Errorf("changed machine: %v", err)
	}
	if got := env.used(t, actMAK); got != 3 {
		t.Errorf("used %d after repeats, want 3", got)
	}

	blocked := env.key(t, actBlocked).ID
	err = env.store.InTx(ctx, func(tx *models.Tx) error {
		_, err := tx.SetKeyStatus(blocked, models.KeyActive, models.KeyBlocked, models.BlockLeaked, "sold on")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ key, product, code string }{
		{"NOPE1-BBBBB-CCCCC-DDDDD-EEEEE", "win-ent", activation.CodeUnknownKey},
		{actMAK, "office", activation.CodeProductMismatch},
		{actBlocked, "win-ent", activation.CodeKeyBlocked},
		{actExpired, "win-ent", activation.CodeAgreementExpired},
		{actMAK, "", activation.CodeInvalidRequest},
	} {
		if _, err := env.client.Activate(ctx, c.key, c.product, machine(9, 0)); refusal(t, err) != c.code {
			t.Errorf("%s %s: %v, want %s", c.key, c.product, err, c.code)
		}
	}
	if got := env.used(t, actBlocked); got != 0 {
		t.Errorf("blocked key used %d", got)
	}
}

func TestActivationKeyRotation(t *testing.T) {
	env := newActivationEnv(t, []models.ImportKey{
		{Agreement: "V1", Product: "win-ent", Type: "mak", Key: actMAK, ActivationLimit: i64p(3), ActivationsUsed: i64p(0)},
	}, nil)
	old, err := env.client.Activate(env.ctx, actMAK, "win-ent", machine(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	kid, err := env.act.RotateSigningKey(env.ctx)
	if err != nil || kid == old.KeyID {
		t.Fatalf("rotate: %q %v", kid, err)
	}
	cert, err := env.client.Activate(env.ctx, actMAK, "win-ent", machine(1, 0))
	if err != nil || cert.KeyID != kid {
		t.Fatalf("after rotation: %+v %v", cert, err)
	}
	ks, err := env.client.Keys(env.ctx)
	if err != nil || len(ks.Keys) != 2 || ks.Keys[0].Current || !ks.Keys[1].Current {
		t.Fatalf("keys: %+v %v", ks, err)
	}
	for _, c := range []*activation.Certificate{old, cert} {
		if _, err := ks.Verify(c); err != nil {
			t.Errorf("%s: %v", c.KeyID, err)
		}
	}
	forged := *cert
	forged.Payload = old.Payload
	if _, err := ks.Verify(&forged); !errors.Is(err, activation.ErrBadCertificate) {
		t.Errorf("forged certificate: %v", err)
	}
}

func TestActivationRateLimit(t *testing.T) {
	env := newActivationEnv(t, []models.ImportKey{
		{Agreement: "V1", Product: "win-ent", Type: "mak", Key: actMAK, ActivationLimit: i64p(3), ActivationsUsed: i64p(0)},
	}, limits.New(time.Hour, 2))
	for i := range 3 {
		_, err := env.client.Activate(env.ctx, actMAK, "win-ent", machine(1, 0))
		if i < 2 && err != nil {
			t.Fatal(err)
		}
		if i == 2 && refusal(t, err) != activation.CodeRateLimited {
			t.Errorf("third: %v", err)
		}
	}
}

// TestActivationLastOneRace: 64 machines activate at once a key with one
// activation left; exactly one gets it, in every round.
func TestActivationLastOneRace(t *testing.T) {
	const rounds, machines = 50, 64
	var keys []models.ImportKey
	for r := range rounds {
		keys = append(keys, models.ImportKey{Agreement: "V1", Product: "win-ent", Type: "mak",
			Key: fmt.Sprintf("RACE%d-BBBBB-CCCCC-DDDDD-%05d", r, r), ActivationLimit: i64p(10), ActivationsUsed: i64p(9)})
	}
	env := newActivationEnv(t, keys, nil)
	for r := range rounds {
		key := keys[r].Key
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, lost := 0, 0
		for m := range machines {
			wg.Go(func() {
				<-start
				_, err := env.client.Activate(env.ctx, key, "win-ent", machine(1000*r+m, 0))
				mu.Lock()
				defer mu.Unlock()
				var e *activation.Error
				switch {
				case err == nil:
					won++
				case errors.As(err, &e) && e.Code == activation.CodeLimitReached:
					lost++
				default:
					t.Errorf("round %d: %v", r, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if won != 1 || lost != machines-1 {
			t.Fatalf("round %d: %d succeeded, %d refused", r, won, lost)
		}
		if got := env.used(t, key); got != 10 {
			t.Fatalf("round %d: used %d, want 10", r, got)
		}
		insts, err := env.store.InstallationsOf(env.ctx, env.key(t, key).ID)
		if err != nil || len(insts) != 1 {
			t.Fatalf("round %d: installations %v %v", r, insts, err)
		}
	}
}
