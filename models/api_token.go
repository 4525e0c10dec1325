package models

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// APIToken is a personal access token. Only its hash is stored; Prefix
// helps the owner tell tokens apart.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	TokenHash  string `json:"-"`
	Prefix     string
	ExpiresAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time
}

// activeTokens selects the tokens of user that are neither revoked nor
// expired at now.
func activeTokens(db *gorm.DB, user int64, now time.Time) *gorm.DB {
	return db.Model(&APIToken{}).Where("user_id = ? AND revoked_at IS NULL AND expires_at > ?", user, now)
}

// ActiveAPITokens returns the user's tokens that are neither revoked nor
// expired, oldest first.
func (s *Store) ActiveAPITokens(ctx context.Context, user int64) ([]APIToken, error) {
	var recs []APIToken
	err := activeTokens(s.db.WithContext(ctx), user, s.now()).Order("id").Find(&recs).Error
	return recs, mapError(err)
}

// APITokenByHash returns the token whose keyed hash is hash, whatever its
// state; CodeNotFound when there is none.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (*APIToken, error) {
	// Every API request asks: one row, its columns named and scanned
	// without reflection.
	rec := APIToken{TokenHash: hash}
	var used, revoked sql.NullTime
	err := s.db.WithContext(ctx).Raw("SELECT id, user_id, name, prefix, expires_at, last_used_at, revoked_at, created_at FROM api_tokens WHERE token_hash = ?", hash).
		Row().Scan(&rec.ID, &rec.UserID, &rec.Name, &rec.Prefix, &rec.ExpiresAt, &used, &revoked, &rec.CreatedAt)
	if err != nil {
		return nil, mapError(err)
	}
	rec.LastUsedAt, rec.RevokedAt = timePtr(used), timePtr(revoked)
	return &rec, nil
}

// APITokenByHashWithUser is APITokenByHash, also returning the token's
// user, read in the same statement: every API request asks.
func (s *Store) APITokenByHashWithUser(ctx context.Context, hash string) (*APIToken, *SignedInUser, error) {
	rec := APIToken{TokenHash: hash}
	var used, revoked sql.NullTime
	var u userRow
	dest := append([]any{&rec.ID, &rec.UserID, &rec.Name, &rec.Prefix, &rec.ExpiresAt, &used, &revoked, &rec.CreatedAt}, u.signedInDest()...)
	err := s.quickQueryRow(ctx, "SELECT t.id, t.user_id, t.name, t.prefix, t.expires_at, t.last_used_at, t.revoked_at, t.created_at, "+
		signedInColumns+" FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = "+boundText, s.Now(), hash).Scan(dest...)
	if err != nil {
		return nil, nil, mapError(err)
	}
	rec.LastUsedAt, rec.RevokedAt = timePtr(used), timePtr(revoked)
	return &rec, u.signedIn(), nil
}

// CreateAPIToken stores tok unless its user already has maxActive active
// tokens (CodeConflict, naming the count). The count and the insert are
// one step: the user's row is locked first on PostgreSQL, and SQLite
// transactions are serialised, so two creations can never both take the
// last place.
func (tx *Tx) CreateAPIToken(tok *APIToken, maxActive int) error {
	if tx.store.dialect == DialectPostgres {
		var id int64
		err := tx.db.Model(&User{}).Clauses(clause.Locking{Strength: "UPDATE"}).
			Where("id = ?", tok.UserID).Pluck("id", &id).Error
		if err != nil {
			return err
		}
	}
	var n int64
	if err := activeTokens(tx.db, tok.UserID, tx.Now()).Count(&n).Error; err != nil {
		return err
	}
	if n >= int64(maxActive) {
		return New(CodeConflict, "err.token.limit", fmt.Sprintf("You have %d active tokens, the most allowed; revoke one first.", n)).With(Args{"Count": n})
	}
	return tx.db.Create(tok).Error
}

// RevokeAPIToken ends the user's token id now; CodeNotFound when the user
// has no such token still in force.
func (tx *Tx) RevokeAPIToken(user, id int64) error {
	res := tx.db.Model(&APIToken{}).Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, user).Update("revoked_at", tx.Now())
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return New(CodeNotFound, "err.token.not_found", "No such token.")
	}
	tx.credentialsChanged(user)
	return nil
}

// TouchAPIToken records that the token id was used at at, unless that was
// recorded less than a minute before. Like TouchSession it is best effort.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	return s.inTx(ctx, touchWait, func(tx *Tx) error {
		return tx.db.Model(&APIToken{}).Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, at.Add(-time.Minute)).
			Update("last_used_at", at).Error
	})
}
