package models

import "time"

// User is a person who has signed in at least once.
type User struct {
	ID                  int64
	DisplayName         string
	FirstName           string
	LastName            string
	Language            string // "en" or "ja"
	WorkEmail           *string
	WorkEmailVerifiedAt *time.Time
	LastSignInAt        *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Identity is a sign-in identity at an OpenID provider, (issuer, subject).
type Identity struct {
	ID         int64
	UserID     int64
	Issuer     string
	Subject    string
	Email      string // as reported by the provider; never trusted as the work email
	Name       string
	CreatedAt  time.Time
	LastSeenAt *time.Time
}

// EmailVerification is a pending proof of a work email. Only the hash of
// its token is stored.
type EmailVerification struct {
	ID         int64
	UserID     int64
	IdentityID int64
	Email      string
	TokenHash  string `json:"-"`
	ExpiresAt  time.Time
	UsedAt     *time.Time
	CreatedAt  time.Time
}
