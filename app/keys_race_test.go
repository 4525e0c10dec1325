package app_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models/modelstest"
)

// raceRounds is how many times each race below is run.
const raceRounds = 50

// together runs every fn at once, released by one barrier, and returns
// their errors in order.
func together(fns ...func() error) []error {
	errs := make([]error, len(fns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn()
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// limitOf reads a key's activation limit as key readers see it.
func (f *keysFixture) limitOf(keys *app.Keys, licence, keyID int64) int64 {
	f.t.Helper()
	views, err := keys.List(f.ctx, f.users["admin"], licence)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, v := range views {
		if v.ID == keyID {
			return v.Limit()
		}
	}
	f.t.Fatalf("key %d not listed", keyID)
	return 0
}

// TestActivationApprovalsRace approves two requests for the same MAK at
// once: both increases must land.
func TestActivationApprovalsRace(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	f := newKeysFixture(t)
	keys := app.NewKeys(f.store, f.az, app.KeysOptions{BaseURL: "https://lsc.example"})
	v1, reader, op := f.lic["V1"], f.users["reader"], f.users["operator"]
	mak := f.keyID("WFP4D")
	want := f.limitOf(keys, v1, mak)
	for round := range raceRounds {
		a, err := keys.RequestActivations(f.ctx, reader, v1, "WFP4D", 3, "")
		if err != nil {
			t.Fatal(err)
		}
		b, err := keys.RequestActivations(f.ctx, reader, v1, "WFP4D", 5, "")
		if err != nil {
			t.Fatal(err)
		}
		errs := together(
			func() error { return keys.ApproveActivations(f.ctx, op, a.ID, "") },
			func() error { return keys.ApproveActivations(f.ctx, op, b.ID, "") },
		)
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		want += 8
		if got := f.limitOf(keys, v1, mak); got != want {
			t.Fatalf("round %d: limit %d, want %d (an approval was lost)", round, got, want)
		}
	}
}

// TestActivationDecideTwiceRace decides one request twice at once: one
// decision wins, the other gets ErrActivationDecided, and the limit rises
// at most once.
func TestActivationDecideTwiceRace(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	f := newKeysFixture(t)
	keys := app.NewKeys(f.store, f.az, app.KeysOptions{BaseURL: "https://lsc.example"})
	v1, reader, op := f.lic["V1"], f.users["reader"], f.users["operator"]
	mak := f.keyID("WFP4D")
	limit := f.limitOf(keys, v1, mak)
	for round := range raceRounds {
		req, err := keys.RequestActivations(f.ctx, reader, v1, "WFP4D", 7, "")
		if err != nil {
			t.Fatal(err)
		}
		approveSecond := round%2 == 0
		errs := together(
			func() error { return keys.ApproveActivations(f.ctx, op, req.ID, "") },
			func() error {
				if approveSecond {
					return keys.ApproveActivations(f.ctx, op, req.ID, "")
				}
				return keys.DenyActivations(f.ctx, op, req.ID, "")
			},
		)
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, app.ErrActivationDecided):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d decisions won: %v", round, won, errs)
		}
		if errs[0] == nil || approveSecond {
			limit += 7
		}
		if got := f.limitOf(keys, v1, mak); got != limit {
			t.Fatalf("round %d: limit %d, want %d", round, got, limit)
		}
	}
}

// TestActivationCountsApprovalRace records counts (used only) while a
// request is approved: the count update must not write back the limit it
// read before the approval.
func TestActivationCountsApprovalRace(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	f := newKeysFixture(t)
	keys := app.NewKeys(f.store, f.az, app.KeysOptions{BaseURL: "https://lsc.example"})
	v1, reader, op := f.lic["V1"], f.users["reader"], f.users["operator"]
	mak := f.keyID("WFP4D")
	want := f.limitOf(keys, v1, mak)
	for round := range raceRounds {
		req, err := keys.RequestActivations(f.ctx, reader, v1, "WFP4D", 2, "")
		if err != nil {
			t.Fatal(err)
		}
		used := int64(round)
		errs := together(
			func() error { return keys.ApproveActivations(f.ctx, op, req.ID, "") },
			func() error {
				_, err := keys.SetActivationCounts(f.ctx, op, mak, &used, nil, t0)
				return err
			},
		)
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		want += 2
		if got := f.limitOf(keys, v1, mak); got != want {
			t.Fatalf("round %d: limit %d, want %d (the approval was overwritten)", round, got, want)
		}
	}
}
