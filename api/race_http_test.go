package api_test

// Issue 9 §1 over HTTP: every check-then-change rule holds when the calls
// arrive at once at the real server, on SQLite and (with
// OPENLSC_TEST_DATABASE_URL) PostgreSQL. Each round releases its callers
// together by closing a channel, then checks the state the rule protects.

import (
	"context"
	"fmt"
	"net/http"
		"sync"
	"testing"
	"time"

	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/api/limits"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// httpRaceRounds is how many times each race below is run.
const httpRaceRounds = 50

// noRateLimits lifts the per-address rate limits: every caller of these
// tests is 127.0.0.1, and the rules under test are not the rate limits.
func noRateLimits(o *api.Options) {
	lots := func() *limits.Limiter { return limits.New(time.Millisecond, 1_000_000) }
	o.Limits = &limits.Set{SignIn: lots(), WorkEmail: lots(), Verify: lots(), AccessRequests: lots()}
}

// newRaceEnv is a server with sign-in and no rate limits on a new database.
func newRaceEnv(t *testing.T) *authEnv {
	t.Helper()
	t.Logf("database: %s", modelstest.Name())
	return newAuthEnvAt(t, modelstest.URL(t), noRateLimits)
}

// call is one API call by a token holder, to server on (env's own when nil).
type call struct {
	token, method, path string
	body                any
	on                  *authEnv
}

// atOnce makes every call at once, released by one barrier, and returns
// their statuses in order.
func (env *authEnv) atOnce(calls ...call) []int {
	env.t.Helper()
	codes := make([]int, len(calls))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			<-start
			on := env
			if c.on != nil {
				on = c.on
			}
			codes[i], _ = on.withToken(c.token, c.method, c.path, c.body)
		})
	}
	close(start)
	wg.Wait()
	return codes
}

// count is how many of codes are want.
func count(codes []int, want int) int {
	n := 0
	for _, c := range codes {
		if c == want {
			n++
		}
	}
	return n
}

// importDoc loads doc, applying contact changes as the import command does.
func (env *authEnv) importDoc(doc *models.ImportDocument) {
	env.t.Helper()
	ctx := context.Background()
	res, err := env.store.Import(ctx, doc, models.ImportOptions{
		Actor: models.Actor{Label: "test"},
		AfterApply: func(tx *models.Tx, res *models.ImportResult) error {
			return env.acc.ApplyContactChanges(tx, res.ContactChanges)
		},
	})
	if err != nil {
		env.t.Fatal(err)
	}
	if err := env.az.AgreementsChanged(ctx, res.ChangedAgreements); err != nil {
		env.t.Fatal(err)
	}
}

// ok fails the test unless code is want.
func (env *authEnv) ok(what string, code, want int, body map[string]any) {
	env.t.Helper()
	if code != want {
		env.t.Fatalf("%s: %d %v, want %d", what, code, body, want)
	}
}

// administrators lists the administrators of licence (email → user id) as
// its administrator (token) sees them.
func (env *authEnv) administrators(token, licence string) map[string]string {
	env.t.Helper()
	code, body := env.withToken(token, http.MethodGet, "/api/v1/licences/"+licence+"/users?permission=administrator", nil)
	env.ok("users of "+licence, code, http.StatusOK, body)
	out := map[string]string{}
	for _, u := range body["users"].([]any) {
		m := u.(map[string]any)
		out[fmt.Sprint(m["email"])] = fmt.Sprint(m["user_id"])
	}
	return out
}

// TestLastAdministratorHTTP: P and Q administer one licence and remove each
// other at once. One removal wins; the other is refused (409, or 404 when
// it arrives after the winner took its right away); the licence keeps
// exactly one administrator. Then the survivor invites the other back.
// Run with one server and with two servers (two authorizers) on one
// database.
func TestLastAdministratorHTTP(t *testing.T) {
	for _, servers := range []int{1, 2} {
		t.Run(fmt.Sprint(servers, " servers"), func(t *testing.T) {
			t.Logf("database: %s", modelstest.Name())
			url := modelstest.URL(t)
			env := newAuthEnvAt(t, url, noRateLimits)
			other := env
			if servers == 2 {
				other = newAuthEnvAt(t, url, noRateLimits)
			}
			env.importDoc(&models.ImportDocument{
				Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
				Agreements:    []models.ImportAgreement{{Program: "enterprise", Number: "E1", Organization: "C1"}},
			})
			people := map[string]string{ // email → token
				"p@contoso.example": env.token(env.person("p", "p@contoso.example")),
				"q@contoso.example": env.token(env.person("q", "q@contoso.example")),
			}
			for email := range people {
				env.grantDirect(email, "E1", models.PermAdministrator)
			}
			if err := other.az.Reload(context.Background()); err != nil {
				t.Fatal(err)
			}
			ids := env.administrators(people["p@contoso.example"], "E1")
			if len(ids) != 2 {
				t.Fatalf("administrators %v, want p and q", ids)
			}
			p, q := people["p@contoso.example"], people["q@contoso.example"]
			conflicts := 0
			for round := range httpRaceRounds {
				codes := env.atOnce(
					call{p, http.MethodDelete, "/api/v1/licences/E1/users/" + ids["q@contoso.example"], nil, nil},
					// Q's call goes to the other server, if there is one.
					call{q, http.MethodDelete, "/api/v1/licences/E1/users/" + ids["p@contoso.example"], nil, other},
				)
				// A loser that arrives after the winner committed no longer
				// sees the licence (404); one that raced it gets 409.
				if count(codes, http.StatusNoContent) != 1 || count(codes, http.StatusConflict)+count(codes, http.StatusNotFound) != 1 {
					t.Fatalf("round %d: %v, want one 204 and one 409 (or 404)", round, codes)
				}
				conflicts += count(codes, http.StatusConflict)
				winner, loser := "p@contoso.example", "q@contoso.example"
				if codes[1] == http.StatusNoContent {
					winner, loser = loser, winner
				}
				if admins := env.administrators(people[winner], "E1"); len(admins) != 1 || admins[winner] == "" {
					t.Fatalf("round %d: administrators %v, want only %s", round, admins, winner)
				}
				code, body := env.withToken(people[winner], http.MethodPost, "/api/v1/licences/E1/users",
					map[string]any{"email": loser, "permissions": []string{"administrator"}})
				env.ok("re-adding "+loser, code, http.StatusNoContent, body)
				if err := other.az.Reload(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%d of %d losers got 409 (the others 404)", conflicts, httpRaceRounds)
		})
	}
}
