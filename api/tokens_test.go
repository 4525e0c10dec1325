package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// bearerGet calls path with a token and no cookies.
func (env *authEnv) bearerGet(token, path string) (int, string) {
	env.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, env.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		env.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = fmt.Fprint(&b, resp.Header.Get("WWW-Authenticate"))
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	return resp.StatusCode, b.String() + string(buf[:n])
}

func TestPersonalAccessTokens(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "ops@contoso.example", Role: "primary"}}})
	c := env.person("ops", "ops@contoso.example")

	if code, body := env.send(c, http.MethodPost, "/api/v1/tokens", map[string]any{"name": ""}); code != http.StatusUnprocessableEntity {
		t.Errorf("unnamed token: %d %v", code, body)
	}
	code, created := env.send(c, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "nightly export", "expires_in_days": 30})
	token, _ := created["token"].(string)
	if code != http.StatusCreated || !strings.HasPrefix(token, "olsc_") {
		t.Fatalf("create: %d %v", code, created)
	}
	rec := modelstest.Take(t, env.store, models.APIToken{})
	if rec.TokenHash == token || strings.Contains(rec.TokenHash, token[5:]) || !strings.HasPrefix(token, rec.Prefix) {
		t.Errorf("stored token %+v", rec)
	}
	_, list := env.send(c, http.MethodGet, "/api/v1/tokens", nil)
	if l := list["tokens"].([]any); len(l) != 1 || strings.Contains(fmt.Sprint(l), token) {
		t.Errorf("list shows %v", l)
	}

	// The token works as its user, without cookies.
	if code, body := env.bearerGet(token, "/api/v1/me"); code != http.StatusOK || !strings.Contains(body, `"number":"M1"`) {
		t.Errorf("GET /api/v1/me with the token: %d %s", code, body)
	}
	// But it is no sign-in: no more tokens, no work email changes.
	req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/api/v1/tokens", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a token making a token: %v %v", resp.StatusCode, err)
	}
	for _, bad := range []string{"olsc_forged", "not-a-token", token + "x"} {
		if code, body := env.bearerGet(bad, "/api/v1/me"); code != http.StatusUnauthorized || !strings.Contains(body, "invalid_token") {
			t.Errorf("token %q: %d %s", bad, code, body)
		}
	}

	// Expiry and revocation.
	code, second := env.send(c, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "short", "expires_in_days": 1})
	if code != http.StatusCreated {
		t.Fatal(code)
	}
	if code, _ := env.send(c, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%v", created["id"]), nil); code != http.StatusNoContent {
		t.Errorf("revoke: %d", code)
	}
	if code, _ := env.bearerGet(token, "/api/v1/me"); code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", code)
	}
	env.clock.Add(25 * time.Hour)
	if code, _ := env.bearerGet(second["token"].(string), "/api/v1/me"); code != http.StatusUnauthorized {
		t.Errorf("expired token: %d", code)
	}
	audit := modelstest.Count(t, env.store, models.AuditEvent{Kind: "token.created"}) + modelstest.Count(t, env.store, models.AuditEvent{Kind: "token.revoked"})
	if audit != 3 {
		t.Errorf("%d token audit events, want 3", audit)
	}
}
