package api_test

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// auditServer serves GET /api/v1/audit on env's store and sessions, as
// production wires it (api.MountAudit on the /api/v1 group). It runs on
// loopback like env.srv, so the browsers' session cookies reach it too.
func auditServer(t *testing.T, env *authEnv) string {
	t.Helper()
	base, _ := url.Parse(env.srv.URL)
	sessions := app.NewSessions(env.store, 30*time.Minute, 12*time.Hour)
	audit := app.NewAudit(env.store, env.az)
	s, err := api.New(api.Options{
		Logger: slog.New(slog.DiscardHandler), BaseURL: base,
		Auth:     &api.Auth{Sessions: sessions, SignIn: app.NewSignIn(env.store, sessions, env.acc, 365*24*time.Hour, nil)},
		Accounts: env.acc,
		Routes: []func(gin.IRouter){func(r gin.IRouter) {
			api.MountAudit(r.Group("/api/v1"), audit, env.acc.Active)
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

type auditAnswer struct {
	code   int
	header http.Header
	body   string
	page   struct {
		Events []struct {
			Kind    string         `json:"kind"`
			Licence string         `json:"licence"`
			Actor   string         `json:"actor"`
			Details map[string]any `json:"details"`
		} `json:"events"`
		Next string `json:"next"`
	}
	problem api.Problem
}

func getAudit(t *testing.T, env *authEnv, c *http.Client, u string) auditAnswer {
	t.Helper()
	resp := env.get(c, u)
	var a auditAnswer
	a.code, a.header = resp.StatusCode, resp.Header
	b, _ := io.ReadAll(resp.Body)
	a.body = string(b)
	switch {
	case strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json"):
		_ = json.Unmarshal([]byte(a.body), &a.problem)
	case strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"):
		if err := json.Unmarshal([]byte(a.body), &a.page); err != nil {
			t.Fatalf("%s: %v\n%s", u, err, a.body)
		}
	}
	return a
}

func (a auditAnswer) licences() []string {
	var out []string
	for _, e := range a.page.Events {
		if !slices.Contains(out, e.Licence) {
			out = append(out, e.Licence)
		}
	}
	slices.Sort(out)
	return out
}

// auditConfirm registers and confirms the work email of a signed-in browser.
func auditConfirm(env *authEnv, c *http.Client, email string) {
	env.t.Helper()
	if code, body := env.send(c, http.MethodPut, "/api/v1/me/work-email", map[string]string{"email": email}); code != http.StatusAccepted {
		env.t.Fatalf("register %s: %d %v", email, code, body)
	}
	if code, body := env.send(c, http.MethodPost, "/api/v1/me/work-email/verify", map[string]any{"token": env.confirmationToken(email)}); code != http.StatusOK {
		env.t.Fatalf("verify %s: %d %v", email, code, body)
	}
}

func TestAuditAPI(t *testing.T) {
	env := newAuthEnv(t)
	audit := auditServer(t, env) + "/api/v1/audit"
	env.importContacts(
		models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "alice@contoso.example", Role: "primary"}}},
		models.ImportAgreement{Program: "open_value", Number: "V1", Organization: "C1", Contacts: []models.ImportContact{{Email: "alice@contoso.example", Role: "online_admin"}}},
		models.ImportAgreement{Program: "open_value", Number: "V2", Organization: "C1", Contacts: []models.ImportContact{{Email: "dave@contoso.example", Role: "primary"}}},
	)

	// Signed out: 401.
	if a := getAudit(t, env, env.browser(), audit); a.code != http.StatusUnauthorized || a.problem.Status != http.StatusUnauthorized {
		t.Errorf("signed out: %d %s", a.code, a.body)
	}

	alice := env.browser()
	env.signIn(alice, &mockoidc.MockUser{Subject: "alice", Email: "alice@idp.example"})
	if a := getAudit(t, env, alice, audit); a.code != http.StatusForbidden || a.problem.Detail != "Confirm your work email first." {
		t.Errorf("before confirming the work email: %d %s", a.code, a.body)
	}
	auditConfirm(env, alice, "alice@contoso.example")
	dave := env.browser()
	env.signIn(dave, &mockoidc.MockUser{Subject: "dave", Email: "dave@idp.example"})
	auditConfirm(env, dave, "dave@contoso.example")

	// The administrator reads their licences' events, nothing else.
	a := getAudit(t, env, alice, audit)
	if a.code != http.StatusOK || !slices.Equal(a.licences(), []string{"M1", "V1"}) || len(a.page.Events) != 2 ||
		a.page.Events[0].Kind != "grant" || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("administrator: %d %v %s", a.code, a.licences(), a.body)
	}
	if a := getAudit(t, env, alice, audit+"?licence=V2"); a.code != http.StatusOK || len(a.page.Events) != 0 {
		t.Errorf("administrator on another licence: %d %s", a.code, a.body)
	}
	if a := getAudit(t, env, alice, audit+"?licence=V1&kind=grant&from=2000-01-01&to=2999-12-31"); len(a.page.Events) != 1 || a.page.Events[0].Licence != "V1" {
		t.Errorf("administrator filtering: %s", a.body)
	}
	if a := getAudit(t, env, alice, audit+"?limit=1"); len(a.page.Events) != 1 || a.page.Next == "" {
		t.Errorf("first page: %s", a.body)
	} else if b := getAudit(t, env, alice, audit+"?limit=1&cursor="+a.page.Next); len(b.page.Events) != 1 || b.page.Next != "" ||
		b.page.Events[0].Licence == a.page.Events[0].Licence {
		t.Errorf("second page: %s", b.body)
	}

	// A stranger, with no licence, reads nothing; probing licences tells nothing.
	carol := env.browser()
	env.signIn(carol, &mockoidc.MockUser{Subject: "carol", Email: "carol@idp.example"})
	auditConfirm(env, carol, "carol@contoso.example")
	for _, q := range []string{"", "?licence=V1", "?licence=NOPE"} {
		if a := getAudit(t, env, carol, audit+q); a.code != http.StatusOK || len(a.page.Events) != 0 || a.page.Events == nil {
			t.Errorf("stranger %q: %d %s", q, a.code, a.body)
		}
	}

	// An operator reads everything, events without a licence too.
	op := env.browser()
	env.signIn(op, &mockoidc.MockUser{Subject: "op", Email: "op@idp.example"})
	auditConfirm(env, op, "operator@contoso.example")
	a = getAudit(t, env, op, audit+"?limit=500")
	kinds := map[string]bool{}
	for _, e := range a.page.Events {
		kinds[e.Kind] = true
	}
	if a.code != http.StatusOK || !kinds["import"] || !kinds["grant"] || !slices.Equal(a.licences(), []string{"", "M1", "V1", "V2"}) {
		t.Errorf("operator: %d %v %v", a.code, kinds, a.licences())
	}

	// CSV export.
	a = getAudit(t, env, alice, audit+"?format=csv&licence=V1")
	if a.code != http.StatusOK || a.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		a.header.Get("Content-Disposition") != `attachment; filename="openlsc-audit.csv"` {
		t.Errorf("CSV: %d %v", a.code, a.header)
	}
	rows, err := csv.NewReader(strings.NewReader(a.body)).ReadAll()
	if err != nil || len(rows) != 2 || rows[0][0] != "time" || rows[1][3] != "grant" || rows[1][4] != "V1" {
		t.Errorf("CSV body: %v %q", err, a.body)
	}
	if a := getAudit(t, env, carol, audit+"?format=csv"); a.code != http.StatusOK || strings.Count(a.body, "\n") != 1 {
		t.Errorf("stranger's CSV: %d %q", a.code, a.body)
	}

	// Bad parameters: 422 naming the fields.
	for q, field := range map[string]string{
		"?from=yesterday": "from", "?to=2026-13-01": "to", "?actor_id=x": "actor_id", "?limit=0": "limit",
		"?cursor=nonsense": "cursor", "?format=xml": "format", "?format=csv&from=x": "from",
	} {
		a := getAudit(t, env, alice, audit+q)
		if a.code != http.StatusUnprocessableEntity || a.header.Get("Content-Type") != "application/problem+json" ||
			len(a.problem.Errors) != 1 || a.problem.Errors[0].Field != field {
			t.Errorf("%s: %d %s", q, a.code, a.body)
		}
	}
}
