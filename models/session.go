package models

import "time"

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
