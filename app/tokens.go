package app

import (
	"context"
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
type Tokens struct{ store *models.Store }

// NewTokens returns the token use cases.
func NewTokens(store *models.Store) *Tokens { return &Tokens{store: store} }

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
		fields = append(fields, models.FieldError{Field: "name", Message: "name the token (1 to 100 characters), e.g. after the script that uses it"})
	}
	if lifetime <= 0 || lifetime > maxTokenLifetime {
		fields = append(fields, models.FieldError{Field: "expires_in_days", Message: "choose 1 to 365 days"})
	}
	if len(fields) > 0 {
		return nil, models.Invalid("Check the token.", fields...)
	}
	secret := tokenPrefix + randomToken(32)
	var out *NewToken
	err := t.store.InTx(ctx, func(tx *models.Tx) error {
		var n int64
		if err := tx.DB().Model(&models.APIToken{}).Where("user_id = ? AND revoked_at IS NULL AND expires_at > ?", user, tx.Now()).Count(&n).Error; err != nil {
			return err
		}
		if n >= maxTokensPerUser {
			return models.Errorf(models.CodeConflict, "You have %d active tokens, the most allowed; revoke one first.", n)
		}
		now := tx.Now()
		rec := models.APIToken{
			UserID: user, Name: name, TokenHash: t.store.Keyring().Hash(tokenHashPurpose, secret),
			Prefix: secret[:len(tokenPrefix)+6], ExpiresAt: now.Add(lifetime), CreatedAt: now,
		}
		if err := tx.DB().Create(&rec).Error; err != nil {
			return err
		}
		out = &NewToken{TokenView: tokenView(rec), Token: secret}
		return tx.AppendAudit(userActor(user), AuditTokenCreate, nil, map[string]any{"token_id": rec.ID, "name": name, "expires_at": rec.ExpiresAt})
	})
	return out, err
}

// List returns the user's tokens that are neither revoked nor expired.
func (t *Tokens) List(ctx context.Context, user int64) ([]TokenView, error) {
	var recs []models.APIToken
	err := t.store.DB().WithContext(ctx).Where("user_id = ? AND revoked_at IS NULL AND expires_at > ?", user, t.store.Now()).Order("id").Find(&recs).Error
	out := make([]TokenView, 0, len(recs))
	for _, r := range recs {
		out = append(out, tokenView(r))
	}
	return out, err
}

// Revoke ends one of the user's tokens at once.
func (t *Tokens) Revoke(ctx context.Context, user, id int64) error {
	return t.store.InTx(ctx, func(tx *models.Tx) error {
		res := tx.DB().Model(&models.APIToken{}).Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, user).Update("revoked_at", tx.Now())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "No such token.")
		}
		return tx.AppendAudit(userActor(user), AuditTokenRevoke, nil, map[string]any{"token_id": id})
	})
}

// Authenticate returns the user of a bearer token that is valid now, and
// records its use (at most once a minute).
func (t *Tokens) Authenticate(ctx context.Context, secret string) (int64, bool) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return 0, false
	}
	var rec models.APIToken
	err := t.store.DB().WithContext(ctx).Where("token_hash = ?", t.store.Keyring().Hash(tokenHashPurpose, secret)).Take(&rec).Error
	now := t.store.Now()
	if err != nil || rec.RevokedAt != nil || !now.Before(rec.ExpiresAt) {
		return 0, false
	}
	if rec.LastUsedAt == nil || now.Sub(*rec.LastUsedAt) > time.Minute {
		_ = t.store.DB().WithContext(ctx).Model(&rec).Update("last_used_at", now).Error
	}
	return rec.UserID, true
}
