// Package devoidc is the development OpenID provider that `openlsc serve --dev` serves under
// /dev/oidc: a real provider (zitadel/oidc op) with a persona picker instead of passwords. It must
// never be mounted outside development mode.
//
// The provider speaks standard OpenID Connect (discovery, authorization code flow with PKCE S256,
// state, nonce, userinfo, JWKS, end_session), so the server signs in through it exactly as it
// would through any production provider. What is deliberately unlike production:
//
//   - There is no password: whoever reaches the picker can sign in as any persona.
//   - The issuer may be plain http (op.WithAllowInsecure), so that localhost works without TLS.
//   - Everything lives in memory: signing keys (RSA 2048) and the 32-byte key that encrypts
//     codes and access tokens are generated at New, so tokens from a previous process are
//     rejected after a restart.
//   - There is no provider-side session (no cookies): every sign-in shows the picker again, and
//     prompt=none answers login_required.
package devoidc

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Persona is a demo identity offered by the picker.
type Persona struct {
	Subject     string // stable, e.g. "it-admin"
	Email       string // reported as email, email_verified=true
	Name        string
	Description string // shown in the picker, e.g. "Customer administrator (MBSA primary contact)"
}

// Options configures the provider and its single registered client.
type Options struct {
	Issuer                 string   // e.g. "http://localhost:8080/dev/oidc" — exactly what discovery reports; the handler serves paths under the issuer's path
	ClientID               string   // the one registered client, e.g. "openlsc-dev"
	ClientSecret           string   // its secret (confidential client, also accepts PKCE)
	RedirectURIs           []string // e.g. ["http://localhost:8080/auth/callback"]
	PostLogoutRedirectURIs []string
	Personas               []Persona
	Logger                 *slog.Logger
}

// Lifetimes of what the provider hands out.
const (
	tokenLifetime       = 10 * time.Minute // access and ID tokens
	codeLifetime        = 5 * time.Minute  // authorization codes (RFC 6749 §4.1.2: at most 10 minutes)
	authRequestLifetime = 30 * time.Minute // a sign-in left on the picker page
	maxPendingRequests  = 10000            // bounds memory if /authorize is hammered
)

// Paths under the issuer path that belong to this package rather than to op.
const (
	pathLogin     = "/login"
	pathLoggedOut = "/logged-out"
)

// endSessionPath is op's default end_session endpoint, relative to the issuer.
const endSessionPath = "end_session"

// New returns the provider's http.Handler, to be mounted so that requests for Issuer's path prefix
// reach it (the handler expects the full path, e.g. /dev/oidc/authorize). Signing keys are
// generated in memory at start (RSA 2048), so ID tokens from a previous process are not accepted
// after a restart.
func New(opts Options) (http.Handler, error) {
	h, _, err := build(opts)
	return h, err
}

// build is New, also returning the storage for tests.
func build(opts Options) (http.Handler, *storage, error) {
	issuerURL, err := validate(&opts)
	if err != nil {
		return nil, nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "devoidc")
	prefix := strings.TrimSuffix(issuerURL.Path, "/")

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("devoidc: signing key: %w", err)
	}
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, nil, fmt.Errorf("devoidc: crypto key: %w", err)
	}

	st := newStorage(opts, key, prefix+pathLogin)
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:                cryptoKey,
		CryptoKeyId:              rand.Text(),
		DefaultLogoutRedirectURI: prefix + pathLoggedOut,
		CodeMethodS256:           true,
		AuthMethodPost:           true, // client_secret_post as well as client_secret_basic
		SupportedUILocales:       []language.Tag{language.English, language.Japanese},
		SupportedScopes:          []string{oidc.ScopeOpenID, oidc.ScopeEmail, oidc.ScopeProfile},
		SupportedClaims: []string{
			"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "at_hash", "c_hash", "azp",
			"name", "email", "email_verified",
		},
	}, st, op.StaticIssuer(opts.Issuer),
		// Development only: op refuses an http issuer unless told otherwise.
		op.WithAllowInsecure(),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("devoidc: %w", err)
	}

	p := &picker{
		storage:  st,
		prefix:   prefix,
		callback: op.AuthCallbackURL(provider),
		logger:   logger,
	}
	issuerCtx := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	csrf := http.NewCrossOriginProtection()

	mux := http.NewServeMux()
	mux.Handle(prefix+pathLogin, csrf.Handler(issuerCtx.HandlerFunc(p.serveHTTP)))
	var back string
	if len(opts.PostLogoutRedirectURIs) > 0 {
		back = opts.PostLogoutRedirectURIs[0]
	}
	mux.Handle(prefix+pathLoggedOut, loggedOut(back))
	opHandler := http.StripPrefix(prefix, provider)
	mux.Handle(prefix+"/"+endSessionPath, issuerCtx.Handler(dropStaleHint(provider, opHandler, logger)))
	mux.Handle(prefix+"/", opHandler)
	logger.Info("development OpenID provider ready; never expose it outside development",
		"issuer", opts.Issuer, "client_id", opts.ClientID, "personas", len(opts.Personas))
	return mux, st, nil
}

// validate checks the options and returns the parsed issuer.
func validate(opts *Options) (*url.URL, error) {
	u, err := url.Parse(opts.Issuer)
	if err != nil {
		return nil, fmt.Errorf("devoidc: issuer: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("devoidc: issuer %q must be an absolute http(s) URL without query or fragment", opts.Issuer)
	}
	if opts.ClientID == "" || opts.ClientSecret == "" {
		return nil, errors.New("devoidc: ClientID and ClientSecret are required")
	}
	if len(opts.RedirectURIs) == 0 {
		return nil, errors.New("devoidc: at least one redirect URI is required")
	}
	for _, list := range [][]string{opts.RedirectURIs, opts.PostLogoutRedirectURIs} {
		for _, raw := range list {
			r, err := url.Parse(raw)
			if err != nil || (r.Scheme != "http" && r.Scheme != "https") || r.Host == "" || r.Fragment != "" {
				return nil, fmt.Errorf("devoidc: redirect URI %q must be an absolute http(s) URL without fragment", raw)
			}
		}
	}
	if len(opts.Personas) == 0 {
		return nil, errors.New("devoidc: at least one persona is required")
	}
	seen := make(map[string]bool, len(opts.Personas))
	for _, p := range opts.Personas {
		// op's opaque access tokens are "tokenID:subject": a colon would break userinfo.
		if p.Subject == "" || strings.ContainsAny(p.Subject, ": \t\r\n") {
			return nil, fmt.Errorf("devoidc: persona subject %q must be non-empty without colons or spaces", p.Subject)
		}
		if seen[p.Subject] {
			return nil, fmt.Errorf("devoidc: duplicate persona subject %q", p.Subject)
		}
		seen[p.Subject] = true
		if p.Email == "" || p.Name == "" {
			return nil, fmt.Errorf("devoidc: persona %q needs an email and a name", p.Subject)
		}
	}
	return u, nil
}

// dropStaleHint lets sign-out work after a restart: an id_token_hint that this process cannot
// verify (signed by the keys of a previous process, or garbage) makes op answer 400. The hint is
// only a hint, so it is removed and op carries on with client_id, which still limits
// post_logout_redirect_uri to the registered ones; without client_id the request lands on the
// provider's signed-out page. An expired but genuine hint is left for op, which accepts it.
func dropStaleHint(provider *op.Provider, next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "malformed request", http.StatusBadRequest)
			return
		}
		hint := r.Form.Get("id_token_hint")
		if hint != "" {
			_, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](r.Context(), hint, provider.IDTokenHintVerifier(r.Context()))
			if err != nil && !errors.As(err, &op.IDTokenHintExpiredError{}) {
				logger.Info("end_session: ignoring an id_token_hint this process did not sign", "err", err)
				r.Form.Del("id_token_hint")
				r.PostForm.Del("id_token_hint")
				q := r.URL.Query()
				q.Del("id_token_hint")
				r.URL.RawQuery = q.Encode()
			}
		}
		next.ServeHTTP(w, r)
	})
}
