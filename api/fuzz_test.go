package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// fuzzRoutes are the JSON routes FuzzAPIBody posts to, as the licence
// administrator and operator ops@contoso.example (licence M1, ids 1).
var fuzzRoutes = []struct{ method, path, seed string }{
	{http.MethodPost, "/api/v1/access-requests", `{"program": "enterprise", "license_number": "E1", "permissions": ["license_viewer"], "comment": "hi"}`},
	{http.MethodPost, "/api/v1/access-requests/1/approve", `{"permissions": ["license_viewer"]}`},
	{http.MethodPost, "/api/v1/access-requests/1/deny", `{"message": "no"}`},
	{http.MethodPost, "/api/v1/licences/M1/users", `{"email": "new@contoso.example", "first_name": "A", "last_name": "B", "permissions": ["key_reader"]}`},
	{http.MethodPut, "/api/v1/licences/M1/users/1", `{"permissions": ["administrator"]}`},
	{http.MethodPut, "/api/v1/me/inheritance/M1", `{"inherit": true}`},
	{http.MethodPost, "/api/v1/licences/M1/activation-requests", `{"key_suffix": "EEEEE", "quantity": 10, "reason": "more PCs"}`},
	{http.MethodPost, "/api/v1/licences/M1/keys/1/reveal", `{}`},
	{http.MethodPost, "/api/v1/operator/activation-requests/1/approve", `{"message": "ok"}`},
	{http.MethodPost, "/api/v1/operator/activation-requests/1/deny", `{"message": "no"}`},
	{http.MethodPut, "/api/v1/operator/keys/1/activations", `{"activations_used": 3, "activation_limit": 10, "as_of": "2026-11-01T09:00:00Z"}`},
	{http.MethodPost, "/api/v1/operator/licences/M1/appoint", `{"email": "boss@contoso.example"}`},
	{http.MethodPost, "/api/v1/operator/import?dry_run=true", `{"organizations": [{"number": "C9", "name": "Northwind"}]}`},
	{http.MethodPut, "/api/v1/me/work-email", `{"email": "ops@contoso.example"}`},
	{http.MethodPost, "/api/v1/tokens", `{"name": "x", "expires_in_days": 1}`},
}

// FuzzAPIBody posts arbitrary bodies to the JSON routes of an in-process
// server, signed in with a personal access token: no answer is a server
// error (a panic would be one, through the recovery middleware) and every
// 4xx is problem+json.
func FuzzAPIBody(f *testing.F) {
	srv, token := newFuzzServer(f)
	for i, r := range fuzzRoutes {
		f.Add(uint8(i), []byte(r.seed))
		f.Add(uint8(i), []byte(`{"comment": "a\u0000b", "message": "\u202e", "email": "\u2066x@contoso.example"}`))
		f.Add(uint8(i), []byte(`[`))
		f.Add(uint8(i), []byte(`{"permissions": [1, null, "administrator"], "quantity": -1e99}`))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req := httptest.NewRequest(r.method, r.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, rec.Code, rec.Body)
		}
		if rec.Code < 400 {
			return
		}
		ct, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
		var p struct {
			Status int    `json:"status"`
			Title  string `json:"title"`
		}
		if ct != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != rec.Code || p.Title == "" {
			t.Fatalf("%s %s %q: %d answered with %q %s, want problem+json", r.method, r.path, body, rec.Code, ct, rec.Body)
		}
	})
}

var fuzzTokenInLink = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

// newFuzzServer starts the API on a fresh database where
// ops@contoso.example, a verified operator, is the primary contact of MBSA
// M1 (so its administrator), and returns it with a token of that user.
func newFuzzServer(tb testing.TB) (http.Handler, string) {
	tb.Helper()
	ctx := context.Background()
	store := modelstest.Open(tb, modelstest.URL(tb), models.Options{Keyring: modelstest.Keyring(tb)})
	az, err := authz.New(ctx, store, authz.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	box := &mail.Recorder{}
	worker, err := mail.NewWorker(store, box, mail.WorkerOptions{From: "OpenLSC <licensing@openlsc.example>"})
	if err != nil {
		tb.Fatal(err)
	}
	const base = "http://lsc.example"
	accounts := app.NewAccounts(store, az, app.WorkEmailOptions{BaseURL: base, Operators: []string{"ops@contoso.example"}})
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{
			{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "ops@contoso.example", Role: "primary"}}},
			{Program: "enterprise", Number: "E1", Organization: "C1", Parent: "M1"},
		},
		Products: []models.ImportProduct{{ID: "win", Name: "Windows", Versions: []models.ImportVersion{{Version: "11"}}}},
		Keys:     []models.ImportKey{{Agreement: "M1", Product: "win", Type: "mak", Key: "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", ActivationLimit: new(int64)}},
	}
	res, err := store.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "fuzz"},
		AfterApply: func(tx *models.Tx, res *models.ImportResult) error {
			return accounts.ApplyContactChanges(tx, res.ContactChanges)
		}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := az.AgreementsChanged(ctx, res.ChangedAgreements); err != nil {
		tb.Fatal(err)
	}
	user, identity, _, err := store.SignIn(ctx, models.IdentityClaims{Issuer: "https://idp.example", Subject: "ops", Email: "ops@idp.example", Name: "Ops"})
	if err != nil {
		tb.Fatal(err)
	}
	if err := accounts.RegisterWorkEmail(ctx, user.ID, identity.ID, "ops@contoso.example"); err != nil {
		tb.Fatal(err)
	}
	if _, err := worker.ProcessOnce(ctx); err != nil {
		tb.Fatal(err)
	}
	msgs := box.Messages()
	m := fuzzTokenInLink.FindStringSubmatch(msgs[len(msgs)-1].Text)
	if m == nil {
		tb.Fatalf("no confirmation link in %q", msgs[len(msgs)-1].Text)
	}
	if _, err := accounts.VerifyWorkEmail(ctx, user.ID, identity.ID, m[1], false); err != nil {
		tb.Fatal(err)
	}
	tokens := app.NewTokens(store)
	tok, err := tokens.Create(ctx, user.ID, "fuzz", 24*time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	baseURL, _ := url.Parse(base)
	sessions := app.NewSessions(store, 30*time.Minute, 12*time.Hour)
	s, err := api.New(api.Options{
		Logger: slog.New(slog.DiscardHandler), BaseURL: baseURL,
		Auth: &api.Auth{Sessions: sessions, SignIn: app.NewSignIn(store, sessions, accounts, 365*24*time.Hour, nil),
			Tokens: tokens},
		Accounts:  accounts,
		Requests:  app.NewRequests(store, az, app.RequestsOptions{BaseURL: base}),
		Access:    &api.Access{Authz: az, Licences: store},
		Admin:     app.NewAdmin(store, az, app.AdminOptions{BaseURL: base}),
		Operators: app.NewOperators(store, az, accounts, app.OperatorsOptions{BaseURL: base}),
		Keys:      app.NewKeys(store, az, app.KeysOptions{BaseURL: base}),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s, tok.Token
}
