package models

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Invitation states.
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
)

// CreateInvitation records inv and sets its id.
func (tx *Tx) CreateInvitation(inv *Invitation) error {
	return tx.db.Create(inv).Error
}

// PendingInvitationsOn returns the unexpired pending invitations to
// agreement, oldest first.
func (s *Store) PendingInvitationsOn(ctx context.Context, agreement int64) ([]Invitation, error) {
	var invs []Invitation
	err := s.db.WithContext(ctx).Where("agreement_id = ? AND status = ? AND expires_at > ?", agreement, InvitationPending, s.Now()).
		Order("id").Find(&invs).Error
	return invs, mapError(err)
}

// PendingInvitation returns pending invitation id to agreement, locked
// until tx ends; a not-found Error when there is none.
func (tx *Tx) PendingInvitation(id, agreement int64) (*Invitation, error) {
	var inv Invitation
	err := tx.forUpdate().Where("id = ? AND agreement_id = ? AND status = ?", id, agreement, InvitationPending).Take(&inv).Error
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

// ExtendInvitation makes invitation id expire at expires.
func (tx *Tx) ExtendInvitation(id int64, expires time.Time) error {
	return tx.db.Model(&Invitation{}).Where("id = ?", id).
		Updates(map[string]any{"expires_at": expires, "updated_at": tx.Now()}).Error
}

// PendingInvitationsFor returns the unexpired pending invitations to email,
// locked until tx ends.
func (tx *Tx) PendingInvitationsFor(email string) ([]Invitation, error) {
	var invs []Invitation
	err := tx.forUpdate().Where("email = ? AND status = ? AND expires_at > ?", email, InvitationPending, tx.Now()).
		Order("id").Find(&invs).Error
	return invs, mapError(err)
}

// AcceptInvitation marks invitation id accepted, and reports whether it
// was still pending.
func (tx *Tx) AcceptInvitation(id int64) (bool, error) {
	now := tx.Now()
	res := tx.db.Model(&Invitation{}).Where("id = ? AND status = ?", id, InvitationPending).
		Updates(map[string]any{"status": InvitationAccepted, "accepted_at": now, "updated_at": now})
	return res.RowsAffected > 0, res.Error
}

// forUpdate returns tx's handle with rows read locked until tx ends
// (PostgreSQL; SQLite transactions are serialised already).
func (tx *Tx) forUpdate() *gorm.DB {
	if tx.store.dialect == DialectPostgres {
		return tx.db.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx.db
}
