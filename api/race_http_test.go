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
				if servers == 2 { // each server learns the other's change now
					env.reload(env, other)
				}
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
				env.reload(other)
			}
			t.Logf("%d of %d losers got 409 (the others 404)", conflicts, httpRaceRounds)
		})
	}
}

// makeMAK imports licence V1 with one MAK (limit 500) and returns the
// tokens of its key reader and of an operator.
func (env *authEnv) makeMAK() (reader, operator string) {
	env.t.Helper()
	limit, ent := int64(500), "Enterprise"
	env.importDoc(&models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements:    []models.ImportAgreement{{Program: "open_value", Number: "V1", Organization: "C1"}},
		Products:      []models.ImportProduct{{ID: "win-ent", Name: "Windows Enterprise", Versions: []models.ImportVersion{{Version: "11", Edition: ent}}}},
		Entitlements:  []models.ImportEntitlement{{Agreement: "V1", Product: "win-ent", Version: "11", Edition: &ent}},
		Keys:          []models.ImportKey{{Agreement: "V1", Product: "win-ent", Type: "mak", Key: apiKeyMAK, ActivationLimit: &limit}},
	})
	reader = env.token(env.person("reader", "reader@contoso.example"))
	env.grantDirect("reader@contoso.example", "V1", models.PermKeyReader)
	operator = env.token(env.person("op", "operator@contoso.example"))
	return reader, operator
}

// makLimit is the activation limit of V1's MAK as its key reader sees it.
func (env *authEnv) makLimit(reader string) int64 {
	env.t.Helper()
	code, body := env.withToken(reader, http.MethodGet, "/api/v1/licences/V1/keys", nil)
	env.ok("keys", code, http.StatusOK, body)
	for _, k := range body["keys"].([]any) {
		if m := k.(map[string]any); m["type"] == "mak" {
			return int64(m["activation_limit"].(float64))
		}
	}
	env.t.Fatalf("no MAK in %v", body)
	return 0
}

// requestActivations files a request for quantity more activations of
// V1's MAK and returns the approval and denial paths.
func (env *authEnv) requestActivations(reader string, quantity int) (approve, deny string) {
	env.t.Helper()
	code, body := env.withToken(reader, http.MethodPost, "/api/v1/licences/V1/activation-requests",
		map[string]any{"key_suffix": "WFP4D", "quantity": quantity, "reason": "rollout"})
	env.ok("activation request", code, http.StatusCreated, body)
	base := fmt.Sprintf("/api/v1/operator/activation-requests/%v/", body["id"])
	return base + "approve", base + "deny"
}

// TestActivationApprovalsHTTP: approving two requests for one MAK at once
// raises the limit by both; deciding one request twice at once decides it
// once (one 204, one 409) and raises the limit at most once.
func TestActivationApprovalsHTTP(t *testing.T) {
	env := newRaceEnv(t)
	reader, op := env.makeMAK()
	want := env.makLimit(reader)
	t.Run("two requests", func(t *testing.T) {
		for round := range httpRaceRounds {
			a, _ := env.requestActivations(reader, 3)
			b, _ := env.requestActivations(reader, 5)
			codes := env.atOnce(call{op, http.MethodPost, a, map[string]string{}, nil}, call{op, http.MethodPost, b, map[string]string{}, nil})
			if count(codes, http.StatusNoContent) != 2 {
				t.Fatalf("round %d: %v, want two 204", round, codes)
			}
			want += 8
			if got := env.makLimit(reader); got != want {
				t.Fatalf("round %d: limit %d, want %d (an approval was lost)", round, got, want)
			}
		}
	})
	t.Run("one request twice", func(t *testing.T) {
		for round := range httpRaceRounds {
			approve, deny := env.requestActivations(reader, 7)
			second := approve
			if round%2 == 1 {
				second = deny
			}
			codes := env.atOnce(call{op, http.MethodPost, approve, map[string]string{}, nil}, call{op, http.MethodPost, second, map[string]string{}, nil})
			if count(codes, http.StatusNoContent) != 1 || count(codes, http.StatusConflict) != 1 {
				t.Fatalf("round %d: %v, want one 204 and one 409", round, codes)
			}
			if codes[0] == http.StatusNoContent || second == approve {
				want += 7
			}
			if got := env.makLimit(reader); got != want {
				t.Fatalf("round %d: limit %d, want %d", round, got, want)
			}
		}
	})
}

// failuresSince is how many failed access requests user, and anyone at
// client, made since the clock's time minus window.
func (env *authEnv) failuresSince(user int64, client string, window time.Duration) (byUser, byClient int64) {
	env.t.Helper()
	err := env.store.InTx(context.Background(), func(tx *models.Tx) error {
		u, c, err := tx.RecentFailures(user, client, tx.Now().Add(-window), 1000)
		byUser, byClient = int64(len(u)), int64(len(c))
		return err
	})
	if err != nil {
		env.t.Fatal(err)
	}
	return byUser, byClient
}

// TestAccessRequestLockoutHTTP: 12 wrong access requests at once by one
// user, or by 12 users from one client address, record exactly 5
// failures; the other 7 are refused with 429. The clock then moves past
// the lock window for the next round.
func TestAccessRequestLockoutHTTP(t *testing.T) {
	env := newRaceEnv(t)
	const n, allowed = 12, 5
	wrong := map[string]any{"program": "enterprise", "license_number": "NOPE", "permissions": []string{"license_viewer"}}
	tokens := make([]string, n)
	ids := make([]int64, n)
	for i := range tokens {
		email := fmt.Sprintf("u%d@fabrikam.example", i)
		tokens[i] = env.token(env.person(fmt.Sprint("u", i), email))
		ids[i] = env.meByToken(tokens[i]).id()
	}
	check := func(t *testing.T, round int, codes []int, user int64) {
		t.Helper()
		failed := count(codes, http.StatusUnprocessableEntity) + count(codes, http.StatusBadRequest)
		if failed != allowed || count(codes, http.StatusTooManyRequests) != n-allowed {
			t.Fatalf("round %d: %v, want %d failed and %d refused with 429", round, codes, allowed, n-allowed)
		}
		byUser, byClient := env.failuresSince(user, "127.0.0.1", time.Hour)
		if byClient != allowed {
			t.Fatalf("round %d: %d failures recorded at the address (user's: %d), want %d", round, byClient, byUser, allowed)
		}
		env.clock.Add(time.Hour + time.Minute)
	}
	t.Run("one user", func(t *testing.T) {
		for round := range httpRaceRounds {
			calls := make([]call, n)
			for i := range calls {
				calls[i] = call{tokens[0], http.MethodPost, "/api/v1/access-requests", wrong, nil}
			}
			check(t, round, env.atOnce(calls...), ids[0])
		}
	})
	t.Run("one address", func(t *testing.T) {
		for round := range httpRaceRounds {
			calls := make([]call, n)
			for i := range calls {
				calls[i] = call{tokens[i], http.MethodPost, "/api/v1/access-requests", wrong, nil}
			}
			check(t, round, env.atOnce(calls...), ids[0])
		}
	})
}

// meView is GET /api/v1/me.
type meView map[string]any

// meByToken is GET /api/v1/me for a token holder.
func (env *authEnv) meByToken(token string) meView {
	env.t.Helper()
	code, body := env.withToken(token, http.MethodGet, "/api/v1/me", nil)
	env.ok("me", code, http.StatusOK, body)
	return body
}

func (me meView) id() int64 { return int64(me["id"].(float64)) }

// on is the user's permission on licence ("" when none).
func (me meView) on(licence string) string { return licences(me)[licence] }

// TestTokenLimitHTTP: a user one token short of the limit of 20 creates
// 4 tokens at once: one creation wins, the others get 409, and the user
// never holds more than 20 active tokens. The winner is revoked for the
// next round.
func TestTokenLimitHTTP(t *testing.T) {
	env := newRaceEnv(t)
	const limit, racers = 20, 4
	c := env.person("t", "t@contoso.example")
	for i := range limit - 1 {
		code, body := env.send(c, http.MethodPost, "/api/v1/tokens", map[string]any{"name": fmt.Sprint("t", i)})
		env.ok("token", code, http.StatusCreated, body)
	}
	for round := range httpRaceRounds {
		codes := make([]int, racers)
		ids := make([]any, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				var body map[string]any
				codes[i], body = env.send(c, http.MethodPost, "/api/v1/tokens", map[string]any{"name": fmt.Sprint("racer", i)})
				ids[i] = body["id"]
			})
		}
		close(start)
		wg.Wait()
		code, body := env.send(c, http.MethodGet, "/api/v1/tokens", nil)
		env.ok("tokens", code, http.StatusOK, body)
		if n := len(body["tokens"].([]any)); n != limit || count(codes, http.StatusCreated) != 1 || count(codes, http.StatusConflict) != racers-1 {
			t.Fatalf("round %d: %v, %d active tokens; want one 201, %d 409 and %d tokens", round, codes, n, racers-1, limit)
		}
		for i, id := range ids {
			if codes[i] == http.StatusCreated {
				code, body := env.send(c, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%v", id), nil)
				env.ok("revoke", code, http.StatusNoContent, body)
			}
		}
	}
}

// TestDecideAccessRequestHTTP: the licence administrator approves and
// denies one access request three times each, all at once: one decision
// wins (204), the five others get 409, and the requester has access
// exactly when the request ended approved. One requester asks again each
// round, after losing the access an approval gave.
func TestDecideAccessRequestHTTP(t *testing.T) {
	env := newRaceEnv(t)
	env.importDoc(&models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{{Program: "enterprise", Number: "E1", Organization: "C1",
			Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}}},
	})
	boss := env.token(env.person("boss", "boss@contoso.example"))
	requester := env.token(env.person("q", "q@fabrikam.example"))
	ask := map[string]any{"program": "enterprise", "license_number": "E1", "permissions": []string{"license_viewer"}}
	for round := range httpRaceRounds {
		code, body := env.withToken(requester, http.MethodPost, "/api/v1/access-requests", ask)
		env.ok("access request", code, http.StatusCreated, body)
		base := fmt.Sprintf("/api/v1/access-requests/%v/", body["id"])
		calls := make([]call, 6)
		for i := range calls {
			if i%2 == 0 {
				calls[i] = call{boss, http.MethodPost, base + "approve", nil, nil}
			} else {
				calls[i] = call{boss, http.MethodPost, base + "deny", map[string]string{"message": "no"}, nil}
			}
		}
		codes := env.atOnce(calls...)
		if count(codes, http.StatusNoContent) != 1 || count(codes, http.StatusConflict) != 5 {
			t.Fatalf("round %d: %v, want one 204 and five 409", round, codes)
		}
		code, body = env.withToken(requester, http.MethodGet, "/api/v1/access-requests", nil)
		env.ok("my requests", code, http.StatusOK, body)
		status := latest(body["requests"].([]any))["status"]
		approved := status == string(models.RequestApproved)
		if !approved && status != string(models.RequestDenied) {
			t.Fatalf("round %d: status %v", round, status)
		}
		me := env.meByToken(requester)
		if has := me.on("E1") != ""; has != approved {
			t.Fatalf("round %d: request %v, yet the requester's access is %v", round, status, has)
		}
		if approved { // take the access away for the next round
			code, body := env.withToken(boss, http.MethodDelete, fmt.Sprintf("/api/v1/licences/E1/users/%d", me.id()), nil)
			env.ok("removing the requester", code, http.StatusNoContent, body)
		}
	}
}

// TestAppointFirstAdministratorHTTP: the operator appoints P and Q as the
// first administrator of one licence at once: one appointment wins (204),
// the other gets 409, and the licence has exactly one administrator.
func TestAppointFirstAdministratorHTTP(t *testing.T) {
	env := newRaceEnv(t)
	doc := &models.ImportDocument{Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}}}
	for round := range httpRaceRounds {
		doc.Agreements = append(doc.Agreements, models.ImportAgreement{Program: "enterprise", Number: fmt.Sprint("A", round), Organization: "C1"})
	}
	env.importDoc(doc)
	op := env.token(env.person("op", "operator@contoso.example"))
	people := []string{"p@contoso.example", "q@contoso.example"}
	tokens := []string{env.token(env.person("p", people[0])), env.token(env.person("q", people[1]))}
	for round := range httpRaceRounds {
		licence := fmt.Sprint("A", round)
		path := "/api/v1/operator/licences/" + licence + "/appoint"
		codes := env.atOnce(call{op, http.MethodPost, path, map[string]string{"email": people[0]}, nil},
			call{op, http.MethodPost, path, map[string]string{"email": people[1]}, nil})
		if count(codes, http.StatusNoContent) != 1 || count(codes, http.StatusConflict) != 1 {
			t.Fatalf("round %d: %v, want one 204 and one 409", round, codes)
		}
		winner := 0
		if codes[1] == http.StatusNoContent {
			winner = 1
		}
		if admins := env.administrators(tokens[winner], licence); len(admins) != 1 || admins[people[winner]] == "" {
			t.Fatalf("round %d: administrators %v, want only %s", round, admins, people[winner])
		}
		if got := env.meByToken(tokens[1-winner]).on(licence); got != "" {
			t.Fatalf("round %d: the loser %s has %q on %s", round, people[1-winner], got, licence)
		}
	}
}

// latest is the request with the highest id.
func latest(requests []any) map[string]any {
	var out map[string]any
	for _, r := range requests {
		if m := r.(map[string]any); out == nil || m["id"].(float64) > out["id"].(float64) {
			out = m
		}
	}
	return out
}

// reload makes the authorizers of others read the grants again, so that a
// change made through one server is seen by the others before the next step.
func (env *authEnv) reload(others ...*authEnv) {
	env.t.Helper()
	for _, e := range others {
		if err := e.az.Reload(context.Background()); err != nil {
			env.t.Fatal(err)
		}
	}
}
