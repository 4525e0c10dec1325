package frontend

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// fakeTokens is a TokenUseCases holding tokens in memory.
type fakeTokens struct {
	list    []app.TokenView
	revoked []int64
}

func (f *fakeTokens) Create(_ context.Context, _ int64, name string, lifetime time.Duration) (*app.NewToken, error) {
	if name == "" {
		return nil, models.Invalid("Check the token.", models.FieldError{Field: "name", Message: "name it"})
	}
	v := app.TokenView{ID: 9, Name: name, Prefix: "olsc_abcdef", ExpiresAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Add(lifetime)}
	f.list = append(f.list, v)
	return &app.NewToken{TokenView: v, Token: "olsc_abcdefSECRET"}, nil
}

func (f *fakeTokens) List(context.Context, int64) ([]app.TokenView, error) { return f.list, nil }

func (f *fakeTokens) Revoke(_ context.Context, _, id int64) error {
	f.revoked = append(f.revoked, id)
	return nil
}

// TestTokensPage creates a token (shown once, not cached), lists it and
// revokes it, in the page's flow.
func TestTokensPage(t *testing.T) {
	tokens := &fakeTokens{}
	s := newTestServer(t, Options{Accounts: fakeAccounts{}, Providers: fakeProviders{}})
	e := gin.New()
	e.Use(fakeSession)
	s.ui.MountTokens(e, tokens)
	s.engine = e
	post := func(target string, form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-User", "7")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}

	mustContain(t, s.get(t, "/account/tokens", "X-Test-User: 7").Body.String(), "<h1>Personal access tokens</h1>", "You have no active token.", `<option value="90" selected>90 days</option>`)
	rec := post("/account/tokens", url.Values{"name": {"backup script"}, "expires_in_days": {"30"}})
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	mustContain(t, rec.Body.String(), "olsc_abcdefSECRET", "this is the only time it is shown", "<th scope=\"row\">backup script</th>")
	body := s.get(t, "/account/tokens", "X-Test-User: 7").Body.String()
	mustContain(t, body, "<code>olsc_abcdef…</code>", `action="/account/tokens/9/revoke"`, "data-confirm=")
	mustNotContain(t, body, "SECRET")
	if rec := post("/account/tokens", url.Values{"name": {""}, "expires_in_days": {"30"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("no name: %d", rec.Code)
	}
	rec = post("/account/tokens/9/revoke", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/account/tokens?revoked=1" || len(tokens.revoked) != 1 {
		t.Errorf("revoke: %d %q %v", rec.Code, rec.Header().Get("Location"), tokens.revoked)
	}
	mustContain(t, s.get(t, "/account/tokens", "X-Test-User: 7", "Accept-Language: ja").Body.String(), "個人用アクセス トークン")
}
