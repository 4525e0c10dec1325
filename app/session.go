package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/openlsc/openlsc/models"
)

// ErrNoSession means the request has no valid session: none, unknown,
// idle too long, or past its absolute lifetime.
var ErrNoSession = errors.New("no valid session")

// SessionData is what a session keeps besides its user.
type SessionData struct {
	// Login is the pending OpenID Connect login, between /auth/login and
	// the callback.
	Login *PendingLogin `json:"login,omitempty"`
	// Provider and IDToken are kept for sign-out (end_session id_token_hint).
	Provider string `json:"provider,omitempty"`
	IDToken  string `json:"id_token,omitempty"`
}

// PendingLogin holds the secrets of one authorization request.
type PendingLogin struct {
	Provider string    `json:"provider"`
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	ReturnTo string    `json:"return_to"`
	Expires  time.Time `json:"expires"`
}

// Session is a loaded server-side session.
type Session struct {
	Record *models.Session
	Data   SessionData
	// User is the session's user as read with the credential for this
	// request (nil: not read). It lives as long as the request, so it is
	// never stale; a use case that changes the user drops it (forgetUser).
	User *models.SignedInUser
}

// requestUser returns user as read with this request's credential, or nil
// when the request did not read them.
func requestUser(ctx context.Context, user int64) *models.SignedInUser {
	if s := SessionFrom(ctx); s != nil && s.User != nil && s.User.ID == user {
		return s.User
	}
	return nil
}

// forgetUser drops the user read with this request's credential, after a
// change to that user, so that the rest of the request reads them afresh.
func forgetUser(ctx context.Context) {
	if s := SessionFrom(ctx); s != nil {
		s.User = nil
	}
}

// Sessions creates, loads and ends server-side sessions. The cookie holds
// a random token; the database holds only its SHA-256.
type Sessions struct {
	store    *models.Store
	idle     time.Duration
	absolute time.Duration
}

// NewSessions returns a session manager with the given idle and absolute
// timeouts.
func NewSessions(store *models.Store, idle, absolute time.Duration) *Sessions {
	return &Sessions{store: store, idle: idle, absolute: absolute}
}

// Idle returns the idle timeout, for cookie lifetimes.
func (m *Sessions) Idle() time.Duration { return m.idle }

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// New starts a session for user and returns its token for the cookie.
func (m *Sessions) New(ctx context.Context, user, identity *int64, data SessionData) (string, *Session, error) {
	return m.start(ctx, user, identity, data, m.absolute)
}

// newPending starts a session that only carries a login in progress; it
// lives as long as the login may take.
func (m *Sessions) newPending(ctx context.Context, data SessionData) (string, *Session, error) {
	return m.start(ctx, nil, nil, data, loginLifetime)
}

// Sweep deletes sessions past their absolute lifetime; the server runs it
// now and then, since an abandoned session is never loaded again.
func (m *Sessions) Sweep(ctx context.Context) (int64, error) {
	return m.store.DeleteExpiredSessions(ctx)
}

func (m *Sessions) start(ctx context.Context, user, identity *int64, data SessionData, lifetime time.Duration) (string, *Session, error) {
	token := randomToken(32)
	b, err := json.Marshal(data)
	if err != nil {
		return "", nil, err
	}
	now := m.store.Now()
	rec := &models.Session{
		IDHash: hashToken(token), UserID: user, IdentityID: identity, Data: string(b),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(lifetime),
	}
	if err := m.store.CreateSession(ctx, rec); err != nil {
		return "", nil, err
	}
	return token, &Session{Record: rec, Data: data}, nil
}

// Load returns the session of token, touching its last-seen time. An
// expired session is deleted and reported as ErrNoSession.
func (m *Sessions) Load(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, ErrNoSession
	}
	rec, user, err := m.store.Session(ctx, hashToken(token))
	if models.ErrorCode(err) == models.CodeNotFound {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	now := m.store.Now()
	if now.After(rec.ExpiresAt) || now.After(rec.LastSeenAt.Add(m.idle)) {
		_ = m.store.DeleteSession(ctx, rec.IDHash)
		return nil, ErrNoSession
	}
	s := &Session{Record: rec, User: user}
	if err := json.Unmarshal([]byte(rec.Data), &s.Data); err != nil {
		return nil, err
	}
	// Touch at most once a minute, so that reads do not all write. The
	// touch is best effort: a database that cannot take the write now
	// (busy, read-only, full) must not fail the read; the readiness probe
	// reports such a database.
	if now.Sub(rec.LastSeenAt) > time.Minute {
		if err := m.store.TouchSession(ctx, rec.IDHash, now); err == nil {
			rec.LastSeenAt = now
		}
	}
	return s, nil
}

// Save stores the session's data.
func (m *Sessions) Save(ctx context.Context, s *Session) error {
	b, err := json.Marshal(s.Data)
	if err != nil {
		return err
	}
	s.Record.Data = string(b)
	return m.store.UpdateSession(ctx, s.Record)
}

// End deletes the session of token.
func (m *Sessions) End(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return m.store.DeleteSession(ctx, hashToken(token))
}
