package models

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Outbox states.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// sealedPrefix marks outbox data sealed with the keyring. Rows written
// before sealing hold a JSON object and are read as they are.
const sealedPrefix = "sealed:"

// outboxAD binds sealed outbox data to its table.
var outboxAD = []byte("openlsc/mail_outbox.data")

// EnqueueMail inserts m into the outbox in tx. Its Data (which can hold
// single-use links) is sealed with the store's keyring, so the database
// (and SQLite's WAL) never holds it in clear.
func (tx *Tx) EnqueueMail(m *OutboxMail) error {
	row := *m
	row.Data = sealedPrefix + base64.StdEncoding.EncodeToString(tx.store.keys.Seal([]byte(m.Data), outboxAD))
	if err := tx.db.Create(&row).Error; err != nil {
		return err
	}
	m.ID = row.ID
	return nil
}

// openData returns the clear data of an outbox row.
func (s *Store) openData(stored string) (string, error) {
	sealed, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", ErrUnseal
	}
	plain, err := s.keys.Open(raw, outboxAD)
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// ClaimOutboxMail reserves up to limit due pending messages until lease
// and returns them, oldest first, with their data opened (a message whose
// data cannot be opened comes back with DataErr set). On PostgreSQL, FOR
// UPDATE SKIP LOCKED keeps concurrent claims apart; SQLite transactions
// take the write lock at BEGIN, so claims run one at a time.
func (s *Store) ClaimOutboxMail(ctx context.Context, now, lease time.Time, limit int) ([]OutboxMail, error) {
	var rows []OutboxMail
	err := s.InTx(ctx, func(tx *Tx) error {
		q := tx.db.Where("status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)",
			OutboxPending, now, now).Order("id").Limit(limit)
		if s.dialect == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Options: clause.LockingOptionsSkipLocked})
		}
		if err := q.Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		return tx.db.Model(&OutboxMail{}).Where("id IN ?", ids).Update("lease_until", lease).Error
	})
	if err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].Data, rows[i].DataErr = s.openData(rows[i].Data)
	}
	return rows, nil
}

// OutboxOutcome is the result of one attempt to send an outbox message.
type OutboxOutcome struct {
	Status        string     // OutboxSent, OutboxFailed, or OutboxPending to try again
	Attempts      int        // attempts made so far, this one included
	NextAttemptAt *time.Time // when to try again (pending only)
	SentAt        *time.Time // when it was sent (sent only)
	LastError     string
}

// FinishOutboxMail records the outcome of an attempt on the message with
// id and ends its lease, provided the lease is still lease. It reports
// whether it did (false: the lease ran out and another worker took the
// message). A sent message's data is dropped: it is no longer needed.
func (s *Store) FinishOutboxMail(ctx context.Context, id int64, lease time.Time, o OutboxOutcome) (bool, error) {
	set := map[string]any{
		"status":      o.Status,
		"attempts":    o.Attempts,
		"last_error":  o.LastError,
		"lease_until": nil,
	}
	if o.NextAttemptAt != nil {
		set["next_attempt_at"] = *o.NextAttemptAt
	}
	if o.SentAt != nil {
		set["sent_at"] = *o.SentAt
	}
	if o.Status == OutboxSent {
		set["data"] = "{}"
	}
	var done bool
	err := s.InTx(ctx, func(tx *Tx) error {
		res := tx.db.Model(&OutboxMail{}).Where("id = ? AND status = ? AND lease_until = ?", id, OutboxPending, lease).Updates(set)
		done = res.RowsAffected > 0
		return res.Error
	})
	return done, err
}

// ReleaseOutboxMail ends the lease on the messages with ids that still
// carry lease, so that the next pass may take them.
func (s *Store) ReleaseOutboxMail(ctx context.Context, ids []int64, lease time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		return tx.db.Model(&OutboxMail{}).Where("id IN ? AND lease_until = ?", ids, lease).Update("lease_until", nil).Error
	})
}

// OutboxMails returns every outbox message in id order, with its data
// opened (DataErr set where it cannot be), for tests and diagnostics.
func (s *Store) OutboxMails(ctx context.Context) ([]OutboxMail, error) {
	var rows []OutboxMail
	if err := s.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, mapError(err)
	}
	for i := range rows {
		rows[i].Data, rows[i].DataErr = s.openData(rows[i].Data)
	}
	return rows, nil
}

// DevMail is a message kept by the development mailbox.
type DevMail struct {
	ID        int64
	MessageID string // the Message-ID header, with angle brackets
	Sender    string // the From header
	Recipient string
	Subject   string
	TextBody  string
	HTMLBody  string
	CreatedAt time.Time
}

// TableName names the development mailbox table.
func (DevMail) TableName() string { return "dev_mail" }

// KeepDevMail stores m in the development mailbox unless a message with
// the same Message-ID is there already (a send repeated after its outcome
// was lost), and reports whether it stored it.
func (s *Store) KeepDevMail(ctx context.Context, m *DevMail) (bool, error) {
	var kept bool
	err := s.InTx(ctx, func(tx *Tx) error {
		var n int64
		if err := tx.db.Model(&DevMail{}).Where("message_id = ?", m.MessageID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		kept = true
		return tx.db.Create(m).Error
	})
	return kept, err
}

// DevMails returns up to limit messages of the development mailbox,
// newest first.
func (s *Store) DevMails(ctx context.Context, limit int) ([]DevMail, error) {
	var out []DevMail
	err := s.db.WithContext(ctx).Order("id DESC").Limit(limit).Find(&out).Error
	return out, mapError(err)
}

// DevMailByID returns the development mailbox's message with id, or a
// not-found Error.
func (s *Store) DevMailByID(ctx context.Context, id int64) (DevMail, error) {
	var m DevMail
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DevMail{}, &Error{Code: CodeNotFound, Message: "There is no such message.", Err: err}
	}
	if err != nil {
		return DevMail{}, fmt.Errorf("read the development mailbox: %w", err)
	}
	return m, nil
}
