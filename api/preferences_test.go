package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// TestLanguagePreference checks that a first sign-in stores the language
// of the pages (here chosen with the language cookie) as the user's, and
// that PUT /api/v1/me/preferences changes it.
func TestLanguagePreference(t *testing.T) {
	env := newAuthEnv(t)
	c := env.browser()
	base, _ := url.Parse(env.srv.URL)
	c.Jar.SetCookies(base, []*http.Cookie{{Name: "openlsc_lang", Value: "ja"}})
	env.signIn(c, &mockoidc.MockUser{Subject: "kenji", Email: "kenji@idp.example", EmailVerified: true})
	if code, me := env.me(c); code != http.StatusOK || me["language"] != "ja" {
		t.Fatalf("after a first sign-in in Japanese: %d, language %v", code, me["language"])
	}
	put := func(body string) int {
		req, _ := http.NewRequest(http.MethodPut, env.srv.URL+"/api/v1/me/preferences", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put(`{"language":"en"}`); code != http.StatusOK {
		t.Fatalf("PUT en: %d", code)
	}
	if _, me := env.me(c); me["language"] != "en" {
		t.Errorf("language after PUT en = %v", me["language"])
	}
	if code := put(`{"language":"fr"}`); code != http.StatusUnprocessableEntity {
		t.Errorf("PUT fr: %d, want 422", code)
	}
	// Signing in again keeps the stored choice.
	c2 := env.browser()
	c2.Jar.SetCookies(base, []*http.Cookie{{Name: "openlsc_lang", Value: "ja"}})
	env.signIn(c2, &mockoidc.MockUser{Subject: "kenji", Email: "kenji@idp.example", EmailVerified: true})
	if _, me := env.me(c2); me["language"] != "en" {
		t.Errorf("language after a second sign-in = %v, want en (kept)", me["language"])
	}
}
