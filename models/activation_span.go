package models

import (
	"context"
	"time"
)

// InstallationSpan returns when the installations of key keyID seen since
// since were first and last seen (zero times when there is none).
func (s *Store) InstallationSpan(ctx context.Context, keyID int64, since time.Time) (first, last time.Time, err error) {
	seen := func(order string) (*Installation, error) {
		var rows []Installation
		err := s.db.WithContext(ctx).Where("key_id = ? AND last_seen >= ?", keyID, since).Order(order).Limit(1).Find(&rows).Error
		if err != nil || len(rows) == 0 {
			return nil, mapError(err)
		}
		return &rows[0], nil
	}
	earliest, err := seen("first_seen")
	if err != nil || earliest == nil {
		return first, last, err
	}
	latest, err := seen("last_seen DESC")
	if err != nil || latest == nil {
		return first, last, err
	}
	return earliest.FirstSeen, latest.LastSeen, nil
}
