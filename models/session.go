package models

import (
	"context"
	"time"
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

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	return mapError(s.db.WithContext(ctx).Create(sess).Error)
}

// Session returns the session whose id hashes to idHash.
func (s *Store) Session(ctx context.Context, idHash string) (*Session, error) {
	var sess Session
	if err := s.db.WithContext(ctx).Where("id_hash = ?", idHash).Take(&sess).Error; err != nil {
		return nil, mapError(err)
	}
	return &sess, nil
}

// UpdateSession saves a session's user, identity, data and times.
func (s *Store) UpdateSession(ctx context.Context, sess *Session) error {
	return mapError(s.db.WithContext(ctx).Model(&Session{}).Where("id_hash = ?", sess.IDHash).
		Select("user_id", "identity_id", "data", "last_seen_at", "expires_at").Updates(sess).Error)
}

// DeleteSession removes a session; removing one that is gone is no error.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	return mapError(s.db.WithContext(ctx).Where("id_hash = ?", idHash).Delete(&Session{}).Error)
}

// DeleteExpiredSessions removes sessions past their absolute expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", s.now()).Delete(&Session{})
	return res.RowsAffected, mapError(res.Error)
}
