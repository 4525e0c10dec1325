package models

import (
	"context"
	"database/sql"
	"time"

	"gorm.io/gorm"
)

// Session is a server-side sign-in session, keyed by the hash of the
// cookie value.
type Session struct {
	IDHash     string `gorm:"primaryKey" json:"-"`
	UserID     *int64
	IdentityID *int64
	Data       string // JSON object
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// touchWait bounds how long a best-effort write made on the way of a read
// (a session's or a token's last-seen time) waits for the write lock: a
// busy database skips the touch rather than slowing the read.
const touchWait = 100 * time.Millisecond

// write runs fn on the writer in a transaction of its own.
func (s *Store) write(ctx context.Context, fn func(db *gorm.DB) error) error {
	return s.InTx(ctx, func(tx *Tx) error { return fn(tx.db) })
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	return s.write(ctx, func(db *gorm.DB) error { return db.Create(sess).Error })
}

// Session returns the session whose id hashes to idHash, and its user
// (nil when it has none), read in the same query: every signed-in page
// asks.
func (s *Store) Session(ctx context.Context, idHash string) (*Session, *SignedInUser, error) {
	sess := Session{IDHash: idHash}
	var user, identity sql.NullInt64
	var u userRow
	dest := append([]any{&user, &identity, &sess.Data, &sess.CreatedAt, &sess.LastSeenAt, &sess.ExpiresAt}, u.signedInDest()...)
	err := s.quickQueryRow(ctx, "SELECT s.user_id, s.identity_id, s.data, s.created_at, s.last_seen_at, s.expires_at, "+
		signedInColumns+" FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.id_hash = "+boundText, s.Now(), idHash).Scan(dest...)
	if err != nil {
		return nil, nil, mapError(err)
	}
	if user.Valid {
		sess.UserID = &user.Int64
	}
	if identity.Valid {
		sess.IdentityID = &identity.Int64
	}
	return &sess, u.signedIn(), nil
}

// UpdateSession saves a session's user, identity, data and times.
func (s *Store) UpdateSession(ctx context.Context, sess *Session) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Model(&Session{}).Where("id_hash = ?", sess.IDHash).
			Select("user_id", "identity_id", "data", "last_seen_at", "expires_at").Updates(sess).Error
	})
}

// TouchSession records that the session was seen at at. It is best effort:
// it waits only briefly for the write lock, and callers may ignore its
// error, since a missed touch only brings the idle timeout closer.
func (s *Store) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	return s.inTx(ctx, touchWait, func(tx *Tx) error {
		return tx.db.Model(&Session{}).Where("id_hash = ? AND last_seen_at < ?", idHash, at).
			Update("last_seen_at", at).Error
	})
}

// DeleteSession removes a session; removing one that is gone is no error.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Where("id_hash = ?", idHash).Delete(&Session{}).Error
	})
}

// DeleteExpiredSessions removes sessions past their absolute expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Where("expires_at < ?", s.now()).Delete(&Session{})
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}
