package models

import (
	"context"
	"time"
)

// AuditPosition is a place in the audit log, newest first: an event's
// time and id.
type AuditPosition struct {
	At time.Time
	ID int64
}

// AuditQuery selects audit events. Empty fields select everything, except
// Licences: unless All is set, only the events of those licences are
// selected (none when it is empty).
type AuditQuery struct {
	All      bool    // every event, with or without a licence
	Licences []int64 // else the events of these licences
	ActorID  *int64
	Kind     string
	From     *time.Time     // inclusive
	To       *time.Time     // exclusive
	After    *AuditPosition // only events after this one, newest first
	Limit    int            // at most this many events; every one when 0
}

// AuditEvents returns the events q selects, newest first.
func (s *Store) AuditEvents(ctx context.Context, q AuditQuery) ([]AuditEvent, error) {
	if !q.All && len(q.Licences) == 0 {
		return nil, nil
	}
	db := s.db.WithContext(ctx).Model(&AuditEvent{})
	if !q.All {
		db = s.whereIDIn(db, "agreement_id", q.Licences)
	}
	if q.ActorID != nil {
		db = db.Where("actor_id = ?", *q.ActorID)
	}
	if q.Kind != "" {
		db = db.Where("kind = ?", q.Kind)
	}
	if q.From != nil {
		db = db.Where("occurred_at >= ?", q.From.UTC())
	}
	if q.To != nil {
		db = db.Where("occurred_at < ?", q.To.UTC())
	}
	if a := q.After; a != nil {
		db = db.Where("(occurred_at < ? OR (occurred_at = ? AND id < ?))", a.At, a.At, a.ID)
	}
	if q.Limit > 0 {
		db = db.Limit(q.Limit)
	}
	var evs []AuditEvent
	err := db.Order("occurred_at DESC").Order("id DESC").Find(&evs).Error
	return evs, mapError(err)
}
