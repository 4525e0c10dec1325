package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/frontend"
	"github.com/openlsc/openlsc/models"
)

// TestFreeTextRuleAPI sends a NUL and a right-to-left override in free-text
// fields of JSON bodies and in a query: each is refused with 422
// problem+json naming the field, and nothing is stored.
func TestFreeTextRuleAPI(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "ops@contoso.example", Role: "primary"}}})
	c := env.person("ops", "ops@contoso.example")

	for _, tc := range []struct {
		name, path string
		body       map[string]any
		field      string
	}{
		{"NUL in a token name", "/api/v1/tokens", map[string]any{"name": "night\x00ly", "expires_in_days": 30}, "name"},
		{"override in a token name", "/api/v1/tokens", map[string]any{"name": "export\u202egpj.exe", "expires_in_days": 30}, "name"},
		{"override in a request comment", "/api/v1/access-requests", map[string]any{"program": "mbsa", "license_number": "M1",
			"permissions": []string{"license_viewer"}, "comment": "please \u202eevorppa"}, "comment"},
		{"NUL in a request comment", "/api/v1/access-requests", map[string]any{"program": "mbsa", "license_number": "M1",
			"permissions": []string{"license_viewer"}, "comment": "a\x00b"}, "comment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := env.send(c, http.MethodPost, tc.path, tc.body)
			if code != http.StatusUnprocessableEntity || !namesField(body, tc.field) {
				t.Errorf("%d %v, want 422 naming %q", code, body, tc.field)
			}
		})
	}
	if _, list := env.send(c, http.MethodGet, "/api/v1/tokens", nil); len(list["tokens"].([]any)) != 0 {
		t.Errorf("tokens stored: %v", list)
	}
	if _, list := env.send(c, http.MethodGet, "/api/v1/access-requests", nil); len(list["requests"].([]any)) != 0 {
		t.Errorf("requests stored: %v", list)
	}
	if code, body := env.send(c, http.MethodGet, "/api/v1/me?lang=%E2%80%AEja", nil); code != http.StatusUnprocessableEntity || !namesField(body, "lang") {
		t.Errorf("override in a query: %d %v", code, body)
	}
	// Line breaks and tabs are text; a right-to-left mark is allowed.
	if code, body := env.send(c, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "nightly\texport \u200f", "expires_in_days": 30}); code != http.StatusCreated {
		t.Errorf("a tab and an RLM: %d %v", code, body)
	}
}

func namesField(problem map[string]any, field string) bool {
	errs, _ := problem["errors"].([]any)
	for _, e := range errs {
		if m, _ := e.(map[string]any); m["field"] == field {
			return true
		}
	}
	return false
}

type textStatus struct{}

func (textStatus) Status(context.Context) (models.Status, error) { return models.Status{}, nil }

// TestFreeTextRuleForms posts a form with a NUL in a display name through
// the server's middleware: the page handler never sees it and the answer
// is the 422 page naming the field.
func TestFreeTextRuleForms(t *testing.T) {
	gin.SetMode(gin.TestMode)
	ui, err := frontend.New(frontend.Options{Status: textStatus{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	s, err := api.New(api.Options{Logger: slog.New(slog.DiscardHandler), Pages: ui, Routes: []func(gin.IRouter){
		func(r gin.IRouter) {
			r.POST("/form", func(c *gin.Context) { got = append(got, c.PostForm("display_name")); c.Status(http.StatusNoContent) })
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	post := func(name string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, "/form", strings.NewReader(url.Values{"display_name": {name}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	for _, bad := range []string{"Haruto\x00Ito", "Haruto \u202eotI", "\u2066Haruto\u2069"} {
		code, page := post(bad)
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, "display_name") || !strings.Contains(page, "text/html") && !strings.Contains(page, "<html") {
			t.Errorf("display name %q: %d\n%s", bad, code, page)
		}
	}
	if len(got) != 0 {
		t.Errorf("the handler read refused values: %q", got)
	}
	if code, _ := post("Haruto Ito"); code != http.StatusNoContent || len(got) != 1 {
		t.Errorf("a plain name: %d, handler saw %q", code, got)
	}
}
