package models

import "time"

// OutboxMail is a message waiting in (or sent from) the mail outbox. It is
// written in the same transaction as the change that causes it.
type OutboxMail struct {
	ID            int64
	Recipient     string
	Language      string
	Template      string
	Data          string // JSON object for the template; sealed at rest (Tx.EnqueueMail)
	Status        string // pending, sent, failed
	Attempts      int
	NextAttemptAt time.Time
	LeaseUntil    *time.Time
	LastError     string
	SentAt        *time.Time
	CreatedAt     time.Time
	// DataErr is set by ClaimOutboxMail when Data could not be opened.
	DataErr error `gorm:"-"`
}

// TableName names the outbox table.
func (OutboxMail) TableName() string { return "mail_outbox" }
