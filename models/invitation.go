package models

import "time"

// Invitation adds a person, by email, to a licence with permissions that take
// effect when they verify that email.
type Invitation struct {
	ID          int64
	AgreementID int64
	Email       string
	FirstName   string
	LastName    string
	Permissions string // comma-separated Permission values
	InvitedBy   *int64
	Status      string // pending, accepted, revoked, expired
	ExpiresAt   time.Time
	AcceptedAt  *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}
