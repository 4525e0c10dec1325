package devoidc

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

var testPersonas = []Persona{
	{Subject: "it-admin", Email: "admin@customer.example", Name: "Aiko Admin", Description: "Customer administrator (MBSA primary contact)"},
	{Subject: "end-user", Email: "user@customer.example", Name: "Ken User", Description: "End user & <friends>"},
	{Subject: "partner", Email: "sales@partner.example", Name: "Pat Partner", Description: "Licensing partner"},
}

const (
	testClientID = "openlsc-dev"
	testSecret   = "dev-secret"
)

// env is one running provider behind an httptest server, seen through go-oidc and x/oauth2 as
// the server sees it.
type env struct {
	t        *testing.T
	srv      *httptest.Server
	issuer   string
	st       *storage
	handler  atomic.Pointer[http.Handler]
	provider *oidc.Provider
	oauth    oauth2.Config
	logout   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t}
	mux := http.NewServeMux()
	mux.Handle("/dev/oidc/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*e.handler.Load()).ServeHTTP(w, r)
	}))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.issuer = e.srv.URL + "/dev/oidc"
	e.logout = e.srv.URL + "/signed-out"
	e.restart()

	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	e.provider = p
	e.oauth = oauth2.Config{
		ClientID:     testClientID,
		ClientSecret: testSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  e.srv.URL + "/auth/callback",
		Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
	}
	return e
}

// restart replaces the provider with a fresh one (new keys, empty memory) at the same issuer.
func (e *env) restart() {
	e.t.Helper()
	h, st, err := build(Options{
		Issuer:                 e.issuer,
		ClientID:               testClientID,
		ClientSecret:           testSecret,
		RedirectURIs:           []string{e.srv.URL + "/auth/callback"},
		PostLogoutRedirectURIs: []string{e.logout},
		Personas:               testPersonas,
		Logger:                 slog.New(slog.DiscardHandler),
	})
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	e.st = st
	e.handler.Store(&h)
}

// browser is a cookie-keeping client that stops at the client's redirect URI (or any URL not on
// the provider) and records every URL it was sent to.
type browser struct {
	*http.Client
	mu      sync.Mutex
	visited []string
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	b := &browser{}
	b.Client = &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			b.mu.Lock()
			b.visited = append(b.visited, req.URL.String())
			b.mu.Unlock()
			if !strings.HasPrefix(req.URL.String(), e.issuer+"/") {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return b
}

type authStart struct {
	verifier, state, nonce string
	url                    string
}

func (e *env) start(cfg oauth2.Config, extra ...oauth2.AuthCodeOption) authStart {
	a := authStart{
		verifier: oauth2.GenerateVerifier(),
		state:    oauth2.GenerateVerifier(),
		nonce:    oauth2.GenerateVerifier(),
	}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(a.verifier), oidc.Nonce(a.nonce)}, extra...)
	a.url = cfg.AuthCodeURL(a.state, opts...)
	return a
}

// openPicker follows the authorize request to the picker and returns its auth request ID and page.
func (e *env) openPicker(b *browser, authURL string) (string, string) {
	e.t.Helper()
	resp, err := b.Get(authURL)
	if err != nil {
		e.t.Fatalf("authorize: %v", err)
	}
	body := readBody(e.t, resp)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/dev/oidc/login" {
		e.t.Fatalf("authorize ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, body)
	}
	id := resp.Request.URL.Query().Get("authRequestID")
	if id == "" {
		e.t.Fatalf("picker URL without authRequestID: %s", resp.Request.URL)
	}
	return id, body
}

func (e *env) pick(b *browser, id, subject string) *http.Response {
	e.t.Helper()
	resp, err := b.PostForm(e.issuer+"/login", url.Values{"authRequestID": {id}, "subject": {subject}})
	if err != nil {
		e.t.Fatalf("pick: %v", err)
	}
	return resp
}

// signIn runs the browser part of the flow and returns the code delivered to the redirect URI.
func (e *env) signIn(a authStart, subject string) string {
	e.t.Helper()
	b := e.browser()
	id, _ := e.openPicker(b, a.url)
	resp := e.pick(b, id, subject)
	body := readBody(e.t, resp)
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("after pick: %d %s", resp.StatusCode, body)
	}
	loc, err := resp.Location()
	if err != nil {
		e.t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.oauth.RedirectURL {
		e.t.Fatalf("redirected to %s, want %s", got, e.oauth.RedirectURL)
	}
	q := loc.Query()
	if q.Get("state") != a.state {
		e.t.Fatalf("state %q, want %q", q.Get("state"), a.state)
	}
	if q.Get("code") == "" {
		e.t.Fatalf("no code in %s", loc)
	}
	return q.Get("code")
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type personaClaims struct {
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
}

func TestCodeFlow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	var disc struct {
		Issuer     string   `json:"issuer"`
		EndSession string   `json:"end_session_endpoint"`
		Userinfo   string   `json:"userinfo_endpoint"`
		JWKS       string   `json:"jwks_uri"`
		PKCE       []string `json:"code_challenge_methods_supported"`
	}
	if err := e.provider.Claims(&disc); err != nil {
		t.Fatal(err)
	}
	if disc.Issuer != e.issuer || disc.Userinfo != e.issuer+"/userinfo" || disc.JWKS != e.issuer+"/keys" ||
		disc.EndSession != e.issuer+"/end_session" || len(disc.PKCE) != 1 || disc.PKCE[0] != "S256" {
		t.Fatalf("discovery: %+v", disc)
	}

	a := e.start(e.oauth)
	b := e.browser()
	id, page := e.openPicker(b, a.url)
	for _, want := range []string{
		`<html lang="en">`,
		"Development sign-in — choose a persona",
		"開発用サインイン — ペルソナを選択",
		`name="authRequestID" value="` + id + `"`,
		`action="/dev/oidc/login"`,
		"End user &amp; &lt;friends&gt;", // escaped
	} {
		if !strings.Contains(page, want) {
			t.Errorf("picker lacks %q", want)
		}
	}
	for _, p := range testPersonas {
		if !strings.Contains(page, `name="subject" value="`+p.Subject+`"`) || !strings.Contains(page, p.Name) {
			t.Errorf("picker does not list persona %s", p.Subject)
		}
	}
	for _, banned := range []string{"<script", "<style", "style=", "onclick"} {
		if strings.Contains(page, banned) {
			t.Errorf("picker contains %q (blocked by CSP)", banned)
		}
	}

	resp := e.pick(b, id, "it-admin")
	readBody(t, resp)
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("state") != a.state {
		t.Fatalf("after pick: %d %v", resp.StatusCode, loc)
	}
	code := loc.Query().Get("code")

	tok, err := e.oauth.Exchange(ctx, code, oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if time.Until(tok.Expiry) > 11*time.Minute || time.Until(tok.Expiry) < 8*time.Minute {
		t.Errorf("access token expiry %v", tok.Expiry)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := e.provider.Verifier(&oidc.Config{ClientID: testClientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != a.nonce || idt.Subject != "it-admin" || idt.Issuer != e.issuer {
		t.Fatalf("ID token nonce=%q sub=%q iss=%q", idt.Nonce, idt.Subject, idt.Issuer)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var c personaClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c != (personaClaims{"admin@customer.example", true, "Aiko Admin"}) {
		t.Fatalf("ID token claims %+v", c)
	}

	ui, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var uc personaClaims
	if err := ui.Claims(&uc); err != nil {
		t.Fatal(err)
	}
	if ui.Subject != "it-admin" || ui.Email != "admin@customer.example" || !ui.EmailVerified || uc.Name != "Aiko Admin" {
		t.Fatalf("userinfo %+v %+v", ui, uc)
	}

	// The same code a second time is refused.
	if _, err := e.oauth.Exchange(ctx, code, oauth2.VerifierOption(a.verifier)); err == nil {
		t.Fatal("second exchange of the same code succeeded")
	}
	// The completed request cannot be picked again (it would change a code's subject).
	resp = e.pick(e.browser(), id, "partner")
	if readBody(t, resp); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("re-pick: %d", resp.StatusCode)
	}
}

func TestClientSecretPost(t *testing.T) {
	e := newEnv(t)
	cfg := e.oauth
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	a := e.start(cfg)
	code := e.signIn(a, "end-user")
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("exchange with client_secret_post: %v", err)
	}
	idt, err := e.provider.Verifier(&oidc.Config{ClientID: testClientID}).Verify(context.Background(), tok.Extra("id_token").(string))
	if err != nil || idt.Subject != "end-user" {
		t.Fatalf("ID token: %v %v", idt, err)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	t.Run("wrong PKCE verifier", func(t *testing.T) {
		a := e.start(e.oauth)
		code := e.signIn(a, "it-admin")
		if _, err := e.oauth.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Fatal("exchange with a wrong verifier succeeded")
		}
		// A code is good for one attempt: the right verifier afterwards is refused too.
		if _, err := e.oauth.Exchange(ctx, code, oauth2.VerifierOption(a.verifier)); err == nil {
			t.Fatal("code still usable after a failed attempt")
		}
	})

	t.Run("missing PKCE verifier", func(t *testing.T) {
		a := e.start(e.oauth)
		code := e.signIn(a, "it-admin")
		if _, err := e.oauth.Exchange(ctx, code); err == nil {
			t.Fatal("exchange without verifier succeeded")
		}
	})

	t.Run("plain PKCE method", func(t *testing.T) {
		a := e.start(e.oauth)
		u, _ := url.Parse(a.url)
		q := u.Query()
		q.Set("code_challenge", a.verifier)
		q.Set("code_challenge_method", "plain")
		u.RawQuery = q.Encode()
		resp, err := e.browser().Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("error") != "invalid_request" {
			t.Fatalf("plain PKCE: %d %v", resp.StatusCode, loc)
		}
	})

	t.Run("same code twice, concurrently", func(t *testing.T) {
		a := e.start(e.oauth)
		code := e.signIn(a, "partner")
		var ok atomic.Int32
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := e.oauth.Exchange(ctx, code, oauth2.VerifierOption(a.verifier)); err == nil {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("%d exchanges of one code succeeded, want 1", ok.Load())
		}
	})

	t.Run("wrong client secret", func(t *testing.T) {
		a := e.start(e.oauth)
		code := e.signIn(a, "it-admin")
		bad := e.oauth
		bad.ClientSecret = "not-the-secret"
		if _, err := bad.Exchange(ctx, code, oauth2.VerifierOption(a.verifier)); err == nil {
			t.Fatal("exchange with a wrong secret succeeded")
		}
	})

	t.Run("unknown persona", func(t *testing.T) {
		b := e.browser()
		id, _ := e.openPicker(b, e.start(e.oauth).url)
		resp := e.pick(b, id, "root")
		if readBody(t, resp); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("unknown persona: %d", resp.StatusCode)
		}
		// The request is still pending: a real persona still works.
		resp = e.pick(b, id, "it-admin")
		if readBody(t, resp); resp.StatusCode != http.StatusFound {
			t.Fatalf("pick after refusal: %d", resp.StatusCode)
		}
	})

	t.Run("unknown auth request", func(t *testing.T) {
		b := e.browser()
		resp := e.pick(b, "no-such-request", "it-admin")
		if readBody(t, resp); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("POST unknown request: %d", resp.StatusCode)
		}
		resp, err := b.Get(e.issuer + "/login?authRequestID=no-such-request")
		if err != nil {
			t.Fatal(err)
		}
		if readBody(t, resp); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("GET unknown request: %d", resp.StatusCode)
		}
	})

	t.Run("cross-site POST", func(t *testing.T) {
		b := e.browser()
		id, _ := e.openPicker(b, e.start(e.oauth).url)
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/login",
			strings.NewReader(url.Values{"authRequestID": {id}, "subject": {"it-admin"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if readBody(t, resp); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site POST: %d", resp.StatusCode)
		}
		req, _ = http.NewRequest(http.MethodPost, e.issuer+"/login",
			strings.NewReader(url.Values{"authRequestID": {id}, "subject": {"it-admin"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://evil.example")
		resp, err = b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if readBody(t, resp); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("foreign-Origin POST: %d", resp.StatusCode)
		}
	})

	t.Run("unregistered redirect_uri", func(t *testing.T) {
		cfg := e.oauth
		cfg.RedirectURL = e.srv.URL + "/evil/callback"
		b := e.browser()
		resp, err := b.Get(e.start(cfg).url)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode < 400 {
			t.Fatalf("unregistered redirect_uri: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		for _, v := range b.visited {
			if strings.Contains(v, "/evil/") {
				t.Fatalf("redirected to the unregistered URI: %s", v)
			}
		}
	})

	t.Run("unknown client", func(t *testing.T) {
		cfg := e.oauth
		cfg.ClientID = "someone-else"
		b := e.browser()
		resp, err := b.Get(e.start(cfg).url)
		if err != nil {
			t.Fatal(err)
		}
		if readBody(t, resp); resp.StatusCode < 400 || len(b.visited) != 0 {
			t.Fatalf("unknown client: %d, visited %v", resp.StatusCode, b.visited)
		}
	})

	t.Run("prompt=none", func(t *testing.T) {
		resp, err := e.browser().Get(e.start(e.oauth, oauth2.SetAuthURLParam("prompt", "none")).url)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("error") != "login_required" {
			t.Fatalf("prompt=none: %d %v", resp.StatusCode, loc)
		}
	})
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var skew atomic.Int64
	e.st.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }

	// A code not redeemed within its lifetime is refused.
	a := e.start(e.oauth)
	code := e.signIn(a, "it-admin")
	skew.Store(int64(codeLifetime + time.Second))
	if _, err := e.oauth.Exchange(ctx, code, oauth2.VerifierOption(a.verifier)); err == nil {
		t.Fatal("expired code accepted")
	}

	// An access token past its lifetime no longer reaches userinfo.
	skew.Store(0)
	a = e.start(e.oauth)
	tok, err := e.oauth.Exchange(ctx, e.signIn(a, "it-admin"), oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatal(err)
	}
	skew.Store(int64(tokenLifetime + time.Second))
	if _, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("expired access token accepted by userinfo")
	}

	// A sign-in left on the picker expires.
	skew.Store(0)
	b := e.browser()
	id, _ := e.openPicker(b, e.start(e.oauth).url)
	skew.Store(int64(authRequestLifetime + time.Second))
	resp := e.pick(b, id, "it-admin")
	if readBody(t, resp); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("expired auth request: %d", resp.StatusCode)
	}
}

func TestEndSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.start(e.oauth)
	tok, err := e.oauth.Exchange(ctx, e.signIn(a, "end-user"), oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatal(err)
	}
	rawID := tok.Extra("id_token").(string)

	var disc struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := e.provider.Claims(&disc); err != nil || disc.EndSession == "" {
		t.Fatalf("no end_session_endpoint: %v", err)
	}

	// An unregistered post_logout_redirect_uri is not followed.
	b := e.browser()
	bad := disc.EndSession + "?" + url.Values{
		"id_token_hint":            {rawID},
		"post_logout_redirect_uri": {"http://evil.example/bye"},
	}.Encode()
	resp, err := b.Get(bad)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	for _, v := range b.visited {
		if strings.Contains(v, "evil.example") {
			t.Fatalf("followed unregistered post_logout_redirect_uri: %d %v", resp.StatusCode, b.visited)
		}
	}

	b = e.browser()
	u := disc.EndSession + "?" + url.Values{
		"id_token_hint":            {rawID},
		"post_logout_redirect_uri": {e.logout},
		"state":                    {"bye"},
	}.Encode()
	resp, err = b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Scheme+"://"+loc.Host+loc.Path != e.logout || loc.Query().Get("state") != "bye" {
		t.Fatalf("end_session: %d %v", resp.StatusCode, loc)
	}
	// The persona's access tokens are revoked.
	if _, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("access token still valid after end_session")
	}

	// client_id instead of id_token_hint (RP-Initiated Logout 1.0) also honours the URI.
	resp, err = e.browser().Get(disc.EndSession + "?" + url.Values{
		"client_id":                {testClientID},
		"post_logout_redirect_uri": {e.logout},
	}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc == nil || loc.String() != e.logout {
		t.Fatalf("end_session with client_id: %d %v", resp.StatusCode, loc)
	}

	// Without a client, the provider's own signed-out page, linking back to the application.
	resp, err = e.browser().Get(disc.EndSession)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Signed out") || !strings.Contains(body, `href="`+e.logout+`"`) {
		t.Fatalf("end_session without hint: %d %s", resp.StatusCode, body)
	}
}

func TestRestartInvalidatesTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.start(e.oauth)
	tok, err := e.oauth.Exchange(ctx, e.signIn(a, "it-admin"), oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatal(err)
	}
	e.restart()
	p, err := oidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Verifier(&oidc.Config{ClientID: testClientID}).Verify(ctx, tok.Extra("id_token").(string)); err == nil {
		t.Fatal("ID token from the previous process accepted")
	}
	if _, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("access token from the previous process accepted")
	}
	// Sign-out still works: a hint signed by the previous process is dropped and client_id
	// (which the server sends too) still limits where the browser may go.
	stale := tok.Extra("id_token").(string)
	resp, err := e.browser().Get(e.issuer + "/end_session?" + url.Values{
		"id_token_hint":            {stale},
		"client_id":                {testClientID},
		"post_logout_redirect_uri": {e.logout},
	}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc == nil || loc.String() != e.logout {
		t.Fatalf("stale id_token_hint with client_id: %d %v", resp.StatusCode, loc)
	}
	for _, q := range []url.Values{
		{"id_token_hint": {stale}, "post_logout_redirect_uri": {"http://evil.example/"}},
		{"id_token_hint": {"garbage"}, "post_logout_redirect_uri": {"http://evil.example/"}},
		{"id_token_hint": {stale}, "client_id": {testClientID}, "post_logout_redirect_uri": {"http://evil.example/"}},
	} {
		b := e.browser()
		resp, err := b.Get(e.issuer + "/end_session?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		for _, v := range b.visited {
			if strings.Contains(v, "evil.example") {
				t.Fatalf("%v: redirected to %s", q, v)
			}
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	good := Options{
		Issuer:       "http://localhost:8080/dev/oidc",
		ClientID:     testClientID,
		ClientSecret: testSecret,
		RedirectURIs: []string{"http://localhost:8080/auth/callback"},
		Personas:     testPersonas,
	}
	if _, err := New(good); err != nil {
		t.Fatalf("good options: %v", err)
	}
	for name, mutate := range map[string]func(*Options){
		"relative issuer":   func(o *Options) { o.Issuer = "/dev/oidc" },
		"issuer with query": func(o *Options) { o.Issuer = "http://localhost:8080/dev/oidc?x=1" },
		"no secret":         func(o *Options) { o.ClientSecret = "" },
		"no redirect":       func(o *Options) { o.RedirectURIs = nil },
		"bad redirect":      func(o *Options) { o.RedirectURIs = []string{"/auth/callback"} },
		"no personas":       func(o *Options) { o.Personas = nil },
		"colon subject":     func(o *Options) { o.Personas = []Persona{{Subject: "a:b", Email: "a@b", Name: "A"}} },
		"duplicate subject": func(o *Options) { o.Personas = append([]Persona{testPersonas[0]}, testPersonas[0]) },
	} {
		o := good
		mutate(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRootIssuer(t *testing.T) {
	// An issuer without a path serves at the root.
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()
	var err error
	h, err = New(Options{
		Issuer: srv.URL, ClientID: testClientID, ClientSecret: testSecret,
		RedirectURIs: []string{srv.URL + "/cb"}, Personas: testPersonas,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := oidc.NewProvider(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if p.Endpoint().AuthURL != srv.URL+"/authorize" {
		t.Fatalf("auth URL %s", p.Endpoint().AuthURL)
	}
}
