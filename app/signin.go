package app

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/openlsc/openlsc/models"
	"golang.org/x/oauth2"
)

// ProviderConfig describes one OpenID provider users may sign in with.
type ProviderConfig struct {
	Name         string   `json:"name"`  // short id used in URLs (?provider=)
	Label        string   `json:"label"` // shown on the sign-in page
	Issuer       string   `json:"issuer"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Scopes       []string `json:"scopes,omitempty"`
}

// Provider is a configured OpenID provider. Discovery happens on first
// use and is retried after a failure, so a provider that is briefly
// unreachable (or served by this very process) does not stop start-up.
type Provider struct {
	cfg         ProviderConfig
	redirectURL string
	client      *http.Client

	mu         sync.Mutex
	discovered *discovered
}

type discovered struct {
	oauth      oauth2.Config
	verifier   *oidc.IDTokenVerifier
	endSession string
}

// NewProvider returns a provider whose callback is redirectURL. client
// makes the requests to the provider (http.DefaultClient when nil).
func NewProvider(cfg ProviderConfig, redirectURL string, client *http.Client) *Provider {
	if client == nil {
		client = http.DefaultClient
	}
	return &Provider{cfg: cfg, redirectURL: redirectURL, client: client}
}

// Name returns the provider's short id.
func (p *Provider) Name() string { return p.cfg.Name }

// Label returns the provider's display name.
func (p *Provider) Label() string { return p.cfg.Label }

func (p *Provider) discover(ctx context.Context) (*discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.discovered != nil {
		return p.discovered, nil
	}
	ctx = oidc.ClientContext(ctx, p.client)
	op, err := oidc.NewProvider(ctx, p.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover OpenID provider %s: %w", p.cfg.Name, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = op.Claims(&extra)
	scopes := p.cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	p.discovered = &discovered{
		oauth: oauth2.Config{
			ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret,
			Endpoint: op.Endpoint(), RedirectURL: p.redirectURL, Scopes: scopes,
		},
		verifier:   op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID}),
		endSession: extra.EndSession,
	}
	return p.discovered, nil
}

// ErrSignInFailed is the one answer to a failed sign-in callback; the
// cause is logged.
var ErrSignInFailed = models.New(models.CodeInvalid, "err.signin.failed", "Sign-in did not complete. Please sign in again.")

// loginLifetime bounds the time between /auth/login and the callback.
const loginLifetime = 10 * time.Minute

// SignIn carries out OpenID Connect sign-in with PKCE, state and nonce.
type SignIn struct {
	store        *models.Store
	sessions     *Sessions
	accounts     *Accounts
	dormantAfter time.Duration
	providers    map[string]*Provider
	order        []*Provider
}

// NewSignIn returns the sign-in use case over providers. A user whose
// previous sign-in is older than dormantAfter must confirm their work
// email again (0: never).
func NewSignIn(store *models.Store, sessions *Sessions, accounts *Accounts, dormantAfter time.Duration, providers []*Provider) *SignIn {
	s := &SignIn{store: store, sessions: sessions, accounts: accounts, dormantAfter: dormantAfter, providers: map[string]*Provider{}, order: providers}
	for _, p := range providers {
		s.providers[p.Name()] = p
	}
	return s
}

// Providers lists the configured providers in order.
func (s *SignIn) Providers() []*Provider { return s.order }

// Begin starts a login at the named provider (the only one when name is
// empty and there is just one): it stores state, nonce and PKCE verifier in
// a new pre-sign-in session and returns that session's token and the
// provider's authorization URL. returnTo must be a local path.
func (s *SignIn) Begin(ctx context.Context, name, returnTo string) (token, authURL string, err error) {
	p := s.providers[name]
	if name == "" && len(s.order) == 1 {
		p = s.order[0]
	}
	if p == nil {
		return "", "", models.New(models.CodeNotFound, "err.signin.provider", "Choose a sign-in provider.")
	}
	d, err := p.discover(ctx)
	if err != nil {
		return "", "", err
	}
	login := &PendingLogin{
		Provider: p.Name(), State: randomToken(24), Nonce: randomToken(24),
		Verifier: oauth2.GenerateVerifier(), ReturnTo: LocalPath(returnTo),
		Expires: s.store.Now().Add(loginLifetime),
	}
	token, _, err = s.sessions.newPending(ctx, SessionData{Login: login})
	if err != nil {
		return "", "", err
	}
	authURL = d.oauth.AuthCodeURL(login.State, oidc.Nonce(login.Nonce), oauth2.S256ChallengeOption(login.Verifier))
	return token, authURL, nil
}

// Finish completes the login of the pre-sign-in session sess with the
// callback's state and code: state compared in constant time, code
// exchanged with the PKCE verifier, ID token verified (issuer, audience,
// expiry, signature) and its nonce checked. The pre-sign-in session is
// ended and a new one started for the user (the session id rotates). It
// returns the new session's token, the user and where to go next.
func (s *SignIn) Finish(ctx context.Context, sess *Session, state, code string) (token string, user *models.User, returnTo string, err error) {
	login := sess.Data.Login
	if login == nil || s.store.Now().After(login.Expires) {
		return "", nil, "", fmt.Errorf("%w: no pending login", ErrSignInFailed)
	}
	// A login is good for one callback, whatever happens next.
	if err := s.store.DeleteSession(ctx, sess.Record.IDHash); err != nil {
		return "", nil, "", err
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(login.State)) != 1 {
		return "", nil, "", fmt.Errorf("%w: state mismatch", ErrSignInFailed)
	}
	p := s.providers[login.Provider]
	if p == nil {
		return "", nil, "", fmt.Errorf("%w: provider %q is gone", ErrSignInFailed, login.Provider)
	}
	d, err := p.discover(ctx)
	if err != nil {
		return "", nil, "", err
	}
	octx := oidc.ClientContext(ctx, p.client)
	tok, err := d.oauth.Exchange(octx, code, oauth2.VerifierOption(login.Verifier))
	if err != nil {
		return "", nil, "", fmt.Errorf("%w: code exchange: %v", ErrSignInFailed, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", nil, "", fmt.Errorf("%w: no id_token", ErrSignInFailed)
	}
	idt, err := d.verifier.Verify(octx, raw)
	if err != nil {
		return "", nil, "", fmt.Errorf("%w: id token: %v", ErrSignInFailed, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(login.Nonce)) != 1 {
		return "", nil, "", fmt.Errorf("%w: nonce mismatch", ErrSignInFailed)
	}
	var claims struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		return "", nil, "", fmt.Errorf("%w: claims: %v", ErrSignInFailed, err)
	}
	user, identity, previous, err := s.store.SignIn(ctx, models.IdentityClaims{
		Issuer: idt.Issuer, Subject: idt.Subject, Email: claims.Email, Name: DisplayName(claims.Name),
	})
	if err != nil {
		return "", nil, "", err
	}
	if err := s.accounts.markDormantIfAway(ctx, user, previous, s.dormantAfter); err != nil {
		return "", nil, "", err
	}
	if previous == nil {
		if err := s.accounts.firstSignInLanguage(ctx, user); err != nil {
			return "", nil, "", err
		}
	}
	token, _, err = s.sessions.New(ctx, &user.ID, &identity.ID, SessionData{Provider: p.Name(), IDToken: raw})
	if err != nil {
		return "", nil, "", err
	}
	return token, user, login.ReturnTo, nil
}

// SignOut ends the session of token and returns where to send the browser:
// the provider's end-session endpoint when it has one, else postLogout.
func (s *SignIn) SignOut(ctx context.Context, token string, sess *Session, postLogout string) (string, error) {
	if err := s.sessions.End(ctx, token); err != nil {
		return "", err
	}
	if sess == nil || sess.Data.Provider == "" {
		return postLogout, nil
	}
	p := s.providers[sess.Data.Provider]
	if p == nil {
		return postLogout, nil
	}
	d, err := p.discover(ctx)
	if err != nil || d.endSession == "" {
		return postLogout, nil
	}
	u, err := url.Parse(d.endSession)
	if err != nil {
		return postLogout, nil
	}
	q := u.Query()
	q.Set("id_token_hint", sess.Data.IDToken)
	q.Set("post_logout_redirect_uri", postLogout)
	q.Set("client_id", p.cfg.ClientID)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// LocalPath returns p when it is a path on this site, and "/" otherwise,
// so that a return address cannot send anyone to another site.
func LocalPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	if u, err := url.Parse(p); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return p
}

// maxDisplayName is the most runes of a display name kept from a provider.
const maxDisplayName = 200

// DisplayName cleans a display name an OpenID provider sent: it drops
// control characters (NUL included), bidirectional overrides and isolates
// (which can make a name read as something else) and invalid UTF-8,
// collapses runs of white space, and keeps at most 200 runes.
func DisplayName(name string) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range strings.ToValidUTF8(name, "") {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r), isBidiControl(r), r == utf8.RuneError:
			continue
		}
		if space {
			if n+1 >= maxDisplayName {
				break
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		if n >= maxDisplayName {
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// isBidiControl reports whether r is a bidirectional embedding, override,
// isolate or mark, or an invisible character that can hide text (zero-width
// space, word joiner, byte order mark). Zero-width joiners, which some
// scripts and emoji need, are kept.
func isBidiControl(r rune) bool {
	return unicode.Is(unicode.Bidi_Control, r) || r == '\u200b' || r == '\u2060' || r == '\ufeff'
}
