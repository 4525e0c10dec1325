package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// clock is a settable time source for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// authEnv is the server with sign-in through mockoidc, a real OpenID
// provider the project did not write, on loopback.
type authEnv struct {
	t      *testing.T
	mail   *mail.Recorder
	worker *mail.Worker
	az     *authz.Authorizer
	acc    *app.Accounts
	req    *app.Requests
	srv    *httptest.Server
	oidc   *mockoidc.MockOIDC
	clock  *clock
	store  *models.Store
	tamper func(claims jwt.MapClaims) // changes the ID token the provider returns
	mu     sync.Mutex
}

func newAuthEnv(t *testing.T) *authEnv {
	t.Helper()
	return newAuthEnvAt(t, modelstest.URL(t))
}

// newAuthEnvAt is newAuthEnv on the database at dbURL; options, if any,
// change the server's options before it is made.
func newAuthEnvAt(t *testing.T, dbURL string, options ...func(*api.Options)) *authEnv {
	t.Helper()
	env := &authEnv{t: t, clock: &clock{t: time.Now().UTC()}}
	env.store = modelstest.Open(t, dbURL, models.Options{Keyring: modelstest.Keyring(t), Now: env.clock.Now})
	az, err := authz.New(context.Background(), env.store, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env.az = az
	env.mail = &mail.Recorder{}
	env.worker, err = mail.NewWorker(env.store, env.mail, mail.WorkerOptions{From: "OpenLSC <licensing@openlsc.example>"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddMiddleware(env.tamperTokens); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	env.oidc = m

	var handler http.Handler
	env.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(env.srv.Close)
	base, _ := url.Parse(env.srv.URL)
	cfg := m.Config()
	p := app.NewProvider(app.ProviderConfig{Name: "mock", Label: "Mock", Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret},
		env.srv.URL+"/auth/callback", nil)
	sessions := app.NewSessions(env.store, 30*time.Minute, 12*time.Hour)
	accounts := app.NewAccounts(env.store, az, app.WorkEmailOptions{BaseURL: env.srv.URL, Operators: []string{"operator@contoso.example"}, Kick: env.worker.Kick})
	env.acc = accounts
	env.req = app.NewRequests(env.store, az, app.RequestsOptions{BaseURL: env.srv.URL, Kick: env.worker.Kick})
	gin.SetMode(gin.TestMode)
	opts := api.Options{
		Logger: slog.New(slog.DiscardHandler), BaseURL: base, Health: env.store,
		Auth: &api.Auth{Sessions: sessions, SignIn: app.NewSignIn(env.store, sessions, accounts, 365*24*time.Hour, []*app.Provider{p}),
			Tokens: app.NewTokens(env.store), InheritancePage: "/inheritance"},
		Accounts:    accounts,
		Requests:    env.req,
		Access:      &api.Access{Authz: az, Licences: az},
		Admin:       app.NewAdmin(env.store, az, app.AdminOptions{BaseURL: env.srv.URL, Kick: env.worker.Kick}),
		Operators:   app.NewOperators(env.store, az, accounts, app.OperatorsOptions{BaseURL: env.srv.URL, Kick: env.worker.Kick}),
		Keys:        app.NewKeys(env.store, az, app.KeysOptions{BaseURL: env.srv.URL, Kick: env.worker.Kick}),
		Summary:     app.NewSummary(env.store, az),
		Activations: app.NewActivations(env.store, az, app.ActivationsOptions{BaseURL: env.srv.URL}),
	}
	for _, o := range options {
		o(&opts)
	}
	s, err := api.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	handler = s
	return env
}

// tamperTokens re-signs the ID token of token responses after env.tamper
// changed its claims, with the provider's own key.
func (env *authEnv) tamperTokens(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.mu.Lock()
		tamper := env.tamper
		env.mu.Unlock()
		if tamper == nil || !strings.HasSuffix(r.URL.Path, "/token") {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
			if raw, ok := body["id_token"].(string); ok {
				parts := strings.Split(raw, ".")
				payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
				claims := jwt.MapClaims{}
				_ = json.Unmarshal(payload, &claims)
				tamper(claims)
				signed, err := env.oidc.Keypair.SignJWT(claims)
				if err != nil {
					env.t.Error(err)
				}
				body["id_token"] = signed
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_ = json.NewEncoder(w).Encode(body)
	})
}

func (env *authEnv) setTamper(f func(jwt.MapClaims)) {
	env.mu.Lock()
	defer env.mu.Unlock()
	env.tamper = f
}

// browser is a cookie-keeping client; it does not follow redirects, so
// each step can be checked.
func (env *authEnv) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (env *authEnv) get(c *http.Client, u string) *http.Response {
	env.t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		env.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

// signIn runs /auth/login → provider → /auth/callback and returns the
// callback response and URL.
func (env *authEnv) signIn(c *http.Client, user *mockoidc.MockUser) (*http.Response, string) {
	env.t.Helper()
	if user != nil {
		env.oidc.QueueUser(user)
	}
	resp := env.get(c, env.srv.URL+"/auth/login?return_to=/api/v1/me")
	if resp.StatusCode != http.StatusFound {
		env.t.Fatalf("/auth/login: %d", resp.StatusCode)
	}
	authURL := resp.Header.Get("Location")
	q, _ := url.Parse(authURL)
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		if q.Query().Get(p) == "" {
			env.t.Errorf("authorization request lacks %s: %s", p, authURL)
		}
	}
	if q.Query().Get("code_challenge_method") != "S256" {
		env.t.Errorf("PKCE method %q, want S256", q.Query().Get("code_challenge_method"))
	}
	resp = env.get(c, authURL)
	callback := resp.Header.Get("Location")
	if !strings.HasPrefix(callback, env.srv.URL+"/auth/callback") {
		env.t.Fatalf("provider answered %d, Location %q", resp.StatusCode, callback)
	}
	return env.get(c, callback), callback
}

func (env *authEnv) me(c *http.Client) (int, map[string]any) {
	env.t.Helper()
	resp := env.get(c, env.srv.URL+"/api/v1/me")
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func sessionCookie(c *http.Client, base string) string {
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "openlsc_session" {
			return ck.Value
		}
	}
	return ""
}

func TestSignIn(t *testing.T) {
	env := newAuthEnv(t)
	c := env.browser()
	if code, _ := env.me(c); code != http.StatusUnauthorized {
		t.Fatalf("/api/v1/me before sign-in: %d", code)
	}
	env.get(c, env.srv.URL+"/auth/login")
	before := sessionCookie(c, env.srv.URL)

	resp, _ := env.signIn(c, &mockoidc.MockUser{Subject: "alice", Email: "alice@idp.example", EmailVerified: true})
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/api/v1/me" {
		t.Fatalf("callback: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	after := sessionCookie(c, env.srv.URL)
	if after == "" || after == before {
		t.Error("the session id was not rotated at sign-in")
	}
	code, me := env.me(c)
	if code != http.StatusOK || me["work_email_verified"] != false || me["licences"] == nil {
		t.Fatalf("/api/v1/me: %d %v", code, me)
	}
	// The provider's email is recorded but is not the work email.
	if me["work_email"] != nil {
		t.Errorf("work email taken from the provider: %v", me["work_email"])
	}
	id := modelstest.Take(t, env.store, models.Identity{Subject: "alice"})
	if id.Issuer != env.oidc.Issuer() || id.Email != "alice@idp.example" {
		t.Errorf("identity %+v", id)
	}

	// Signing in again as the same identity finds the same user.
	_, _ = env.signIn(env.browser(), &mockoidc.MockUser{Subject: "alice", Email: "alice@idp.example"})
	if n := modelstest.Count(t, env.store, models.User{}); n != 1 {
		t.Errorf("%d users after two sign-ins of one identity", n)
	}

	// A cross-site POST is refused before it reaches the handler.
	req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/auth/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	xs, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	xs.Body.Close()
	if xs.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site logout: %d, want 403", xs.StatusCode)
	}
	if code, _ := env.me(c); code != http.StatusOK {
		t.Error("the cross-site request ended the session")
	}

	// Sign-out ends the session on the server.
	req, _ = http.NewRequest(http.MethodPost, env.srv.URL+"/auth/logout", nil)
	out, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if out.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", out.StatusCode)
	}
	sessions := 0
	for _, s := range modelstest.Find(t, env.store, models.Session{}) {
		if s.UserID != nil {
			sessions++
		}
	}
	if sessions != 1 { // the second browser's
		t.Errorf("%d signed-in sessions left, want 1", sessions)
	}
	if code, _ := env.me(c); code != http.StatusUnauthorized {
		t.Errorf("/api/v1/me after sign-out: %d", code)
	}
}

func TestSignInAttacks(t *testing.T) {
	env := newAuthEnv(t)
	refused := func(name string, c *http.Client, resp *http.Response) {
		t.Helper()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s: callback answered %d, want a 4xx refusal", name, resp.StatusCode)
		}
		if code, _ := env.me(c); code != http.StatusUnauthorized {
			t.Errorf("%s: signed in anyway", name)
		}
	}

	// Wrong state.
	c := env.browser()
	resp := env.get(c, env.srv.URL+"/auth/login")
	resp = env.get(c, resp.Header.Get("Location"))
	cb, _ := url.Parse(resp.Header.Get("Location"))
	q := cb.Query()
	q.Set("state", "forged")
	cb.RawQuery = q.Encode()
	refused("wrong state", c, env.get(c, cb.String()))

	// Replayed code: the callback URL of a completed sign-in, again.
	c = env.browser()
	_, callback := env.signIn(c, nil)
	c2 := env.browser()
	env.get(c2, env.srv.URL+"/auth/login") // a pre-sign-in session of its own
	refused("replayed callback", c2, env.get(c2, callback))

	// No pre-sign-in session at all.
	refused("no session", env.browser(), env.get(env.browser(), callback))

	for name, tamper := range map[string]func(jwt.MapClaims){
		"wrong nonce":      func(c jwt.MapClaims) { c["nonce"] = "not-the-one-we-sent" },
		"another audience": func(c jwt.MapClaims) { c["aud"] = "some-other-client" },
		"expired token":    func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() },
		"another issuer":   func(c jwt.MapClaims) { c["iss"] = "https://evil.example" },
	} {
		env.setTamper(tamper)
		c := env.browser()
		resp, _ := env.signIn(c, nil)
		refused(name, c, resp)
	}
	env.setTamper(nil)
	c = env.browser()
	if resp, _ := env.signIn(c, nil); resp.StatusCode != http.StatusFound {
		t.Errorf("an honest sign-in after the attacks: %d", resp.StatusCode)
	}
}

func TestSessionTimeouts(t *testing.T) {
	env := newAuthEnv(t)
	c := env.browser()
	env.signIn(c, nil)
	env.clock.Add(29 * time.Minute)
	if code, _ := env.me(c); code != http.StatusOK {
		t.Fatalf("within the idle timeout: %d", code)
	}
	// Activity keeps the session alive up to the absolute timeout.
	for range 24 {
		env.clock.Add(29 * time.Minute)
		env.me(c)
	}
	if code, _ := env.me(c); code != http.StatusUnauthorized {
		t.Errorf("past the absolute timeout: %d", code)
	}
	c = env.browser()
	env.signIn(c, nil)
	env.clock.Add(31 * time.Minute)
	if code, _ := env.me(c); code != http.StatusUnauthorized {
		t.Errorf("past the idle timeout: %d", code)
	}
	// An abandoned login (never called back) is swept after ten minutes,
	// a signed-in session after its absolute lifetime.
	env.get(env.browser(), env.srv.URL+"/auth/login")
	env.signIn(env.browser(), nil)
	sessions := app.NewSessions(env.store, 30*time.Minute, 12*time.Hour)
	count := func() int64 { return modelstest.Count(t, env.store, models.Session{}) }
	before := count()
	env.clock.Add(11 * time.Minute)
	if n, err := sessions.Sweep(context.Background()); err != nil || n != 1 || count() != before-1 {
		t.Errorf("sweeping an abandoned login: %d, %v", n, err)
	}
	env.clock.Add(12 * time.Hour)
	if _, err := sessions.Sweep(context.Background()); err != nil || count() != 0 {
		t.Errorf("after 12 h, %d sessions remain (%v)", count(), err)
	}
}

func TestSignInRateLimit(t *testing.T) {
	env := newAuthEnv(t)
	c := env.browser()
	limited := 0
	for range 40 {
		if resp := env.get(c, env.srv.URL+"/auth/login"); resp.StatusCode == http.StatusTooManyRequests {
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if limited < 15 {
		t.Errorf("%d of 40 rapid sign-in attempts limited", limited)
	}
}
