package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestTokenLimitIsAtomic has users one token short of the limit of 20
// create tokens in parallel, 50 rounds: exactly one creation may win each
// round, the others get a conflict, and no user ever holds more than 20.
func TestTokenLimitIsAtomic(t *testing.T) {
	ctx := context.Background()
	store := modelstest.New(t)
	tokens := app.NewTokens(store)
	const rounds, racers, limit = 50, 4, 20
	for round := range rounds {
		user, _, _, err := store.SignIn(ctx, models.IdentityClaims{Issuer: "https://idp.example", Subject: fmt.Sprint("racer-", round), Name: "Racer"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range limit - 1 {
			if _, err := tokens.Create(ctx, user.ID, fmt.Sprint("t", i), 24*time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		start := make(chan struct{})
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				_, errs[i] = tokens.Create(ctx, user.ID, fmt.Sprint("racer", i), 24*time.Hour)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else if models.ErrorCode(err) != models.CodeConflict {
				t.Errorf("round %d: a loser got %v, want a conflict", round, err)
			}
		}
		list, err := tokens.List(ctx, user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if won != 1 || len(list) != limit {
			t.Fatalf("round %d (%s): %d creations won, the user has %d active tokens; want 1 and %d", round, modelstest.Name(), won, len(list), limit)
		}
	}
}

func TestDisplayName(t *testing.T) {
	long := ""
	for range 300 {
		long += "é"
	}
	for _, tc := range []struct{ in, want string }{
		{"Ada Lovelace", "Ada Lovelace"},
		{"  Ada \t\n Lovelace  ", "Ada Lovelace"},
		{"Ada\x00\x07Lovelace", "AdaLovelace"},
		{"admin\u202egnp.exe", "admingnp.exe"},                   // right-to-left override
		{"\u2066Mallory\u2069 \u200bsupport", "Mallory support"}, // isolates, zero-width space
		{"bad \xff\xfe utf8", "bad utf8"},
		{"山田\u200d太郎", "山田\u200d太郎"}, // joiners stay
		{long, long[:400]},           // 200 runes of two bytes
	} {
		if got := app.DisplayName(tc.in); got != tc.want {
			t.Errorf("DisplayName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
