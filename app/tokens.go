package app

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openlsc/openlsc/models"
)

// Personal access tokens let automation use the API as a user.
const (
	tokenPrefix      = "olsc_"
	tokenHashPurpose = "api-token"
	maxTokensPerUser = 20
	maxTokenLifetime = 365 * 24 * time.Hour
	AuditTokenCreate = "token.created"
	AuditTokenRevoke = "token.revoked"
)

// Tokens are the personal access token use cases.
type Tokens struct {
	store  *models.Store
	memory *credentialMemory[tokenCredential]
}

// tokenCredential is what a token's hash stood for when it was read.
type tokenCredential struct {
	rec  models.APIToken
	user *models.SignedInUser
}

// NewTokens returns the token use cases.
func NewTokens(store *models.Store) *Tokens {
	t := &Tokens{store: store, memory: newCredentialMemory[tokenCredential]()}
	store.OnCredentialChange(t.memory.forget)
	return t
}

// TokenView describes a token without its secret.
type TokenView struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// NewToken is a token just created: Token is shown this once.
type NewToken struct {
	TokenView
	Token string `json:"token"`
}

func tokenView(t models.APIToken) TokenView {
	return TokenView{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt}
}

// Create makes a token for user named name, valid for lifetime (at most a
// year). Only its keyed hash is stored.
func (t *Tokens) Create(ctx context.Context, user int64, name string, lifetime time.Duration) (*NewToken, error) {
	name = strings.TrimSpace(name)
	var fields []models.FieldError
	if name == "" || utf8.RuneCountInString(name) > 100 {
		fields = append(fields, models.FieldError{Field: "name", Key: "err.field.token_name", Message: "name the token (1 to 100 characters), e.g. after the script that uses it"})
	}
	if lifetime <= 0 || lifetime > maxTokenLifetime {
		fields = append(fields, models.FieldError{Field: "expires_in_days", Key: "err.field.token_days", Message: "choose 1 to 365 days"})
	}
	if len(fields) > 0 {
		return nil, models.InvalidKey("err.token.invalid", "Check the token.", fields...)
	}
	secret := tokenPrefix + randomToken(32)
	var out *NewToken
	err := t.store.InTx(ctx, func(tx *models.Tx) error {
		now := tx.Now()
		rec := models.APIToken{
			UserID: user, Name: name, TokenHash: t.store.Keyring().Hash(tokenHashPurpose, secret),
			Prefix: secret[:len(tokenPrefix)+6], ExpiresAt: now.Add(lifetime), CreatedAt: now,
		}
		if err := tx.CreateAPIToken(&rec, maxTokensPerUser); err != nil {
			return err
		}
		out = &NewToken{TokenView: tokenView(rec), Token: secret}
		return tx.AppendAudit(userActor(user), AuditTokenCreate, nil, map[string]any{"token_id": rec.ID, "name": name, "expires_at": rec.ExpiresAt})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// List returns the user's tokens that are neither revoked nor expired.
func (t *Tokens) List(ctx context.Context, user int64) ([]TokenView, error) {
	recs, err := t.store.ActiveAPITokens(ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]TokenView, 0, len(recs))
	for _, r := range recs {
		out = append(out, tokenView(r))
	}
	return out, nil
}

// Revoke ends one of the user's tokens at once.
func (t *Tokens) Revoke(ctx context.Context, user, id int64) error {
	return t.store.InTx(ctx, func(tx *models.Tx) error {
		if err := tx.RevokeAPIToken(user, id); err != nil {
			return err
		}
		return tx.AppendAudit(userActor(user), AuditTokenRevoke, nil, map[string]any{"token_id": id})
	})
}

// ErrInvalidToken answers a bearer token that is unknown, revoked or
// expired.
var ErrInvalidToken = errors.New("the access token is not valid")

// Authenticate returns the user of a bearer token that is valid now, and
// records its use (at most once a minute, best effort). The token and its
// user are read in one query, then remembered for a moment (credentialTTL):
// a revocation or a change of the user made through this server is seen by
// the very next request, one made elsewhere within the moment. A token that
// is not valid is ErrInvalidToken; a database fault is returned as it is,
// so that it is never mistaken for a bad credential.
func (t *Tokens) Authenticate(ctx context.Context, secret string) (*models.SignedInUser, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return nil, ErrInvalidToken
	}
	hash := t.store.Keyring().Hash(tokenHashPurpose, secret)
	cred, gen, ok := t.memory.get(hash)
	if !ok {
		rec, user, err := t.store.APITokenByHashWithUser(ctx, hash)
		if models.ErrorCode(err) == models.CodeNotFound {
			return nil, ErrInvalidToken
		}
		if err != nil {
			return nil, err
		}
		cred = tokenCredential{rec: *rec, user: user}
		t.memory.put(hash, rec.UserID, cred, gen)
	}
	now := t.store.Now()
	if cred.rec.RevokedAt != nil || !now.Before(cred.rec.ExpiresAt) {
		return nil, ErrInvalidToken
	}
	if cred.rec.LastUsedAt == nil || now.Sub(*cred.rec.LastUsedAt) > time.Minute {
		_ = t.store.TouchAPIToken(ctx, cred.rec.ID, now) // a missed touch costs nothing but accuracy
		cred.rec.LastUsedAt = &now
		t.memory.update(hash, cred, gen)
	}
	user := *cred.user // the caller's own copy
	return &user, nil
}
