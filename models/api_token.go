package models

import "time"

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
