package models

import (
	"encoding/json"
	"time"
)

// AuditEvent records one security-relevant action. The table is
// append-only: the database refuses updates and deletes.
type AuditEvent struct {
	ID          int64
	OccurredAt  time.Time
	ActorID     *int64 // the user, when a user acted
	Actor       string // who acted, for display: "user:12", "cli", "system"
	Kind        string // e.g. "import", "grant", "revoke", "download", "key.reveal"
	AgreementID *int64
	SourceAddr  string
	Details     string // JSON object
}

// Audit kinds written by this package.
const (
	AuditImport = "import"
)

// Actor identifies who causes a change, for the audit log.
type Actor struct {
	UserID     *int64
	Label      string // "user:12", "cli", "system", …
	SourceAddr string
}

// AppendAudit writes an audit event in the transaction. details is encoded
// as a JSON object.
func (tx *Tx) AppendAudit(actor Actor, kind string, agreementID *int64, details any) error {
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	if details == nil {
		b = []byte("{}")
	}
	ev := AuditEvent{
		OccurredAt:  tx.Now(),
		ActorID:     actor.UserID,
		Actor:       actor.Label,
		Kind:        kind,
		AgreementID: agreementID,
		SourceAddr:  actor.SourceAddr,
		Details:     string(b),
	}
	return mapError(tx.db.Create(&ev).Error)
}
