package models

import "context"

// SetKeyStatus moves key keyID from status from to status to, with its
// block reason and note, if it still has status from; it reports whether
// it did.
func (tx *Tx) SetKeyStatus(keyID int64, from, to KeyStatus, reason BlockReason, note string) (bool, error) {
	now := tx.Now()
	res := tx.db.Model(&ProductKey{}).Where("id = ? AND status = ?", keyID, from).Updates(map[string]any{
		"status": to, "block_reason": reason, "status_note": note, "status_changed_at": now, "updated_at": now,
	})
	if res.Error != nil {
		return false, mapError(res.Error)
	}
	return res.RowsAffected == 1, nil
}

// HasKey reports whether licence already has the key with fingerprint for
// product.
func (tx *Tx) HasKey(licence, product int64, fingerprint string) (bool, error) {
	var n int64
	err := tx.db.Model(&ProductKey{}).Where("agreement_id = ? AND product_id = ? AND fingerprint = ?", licence, product, fingerprint).
		Count(&n).Error
	return n > 0, mapError(err)
}

// CreateKey stores pk (its key sealed already) and sets its id.
func (tx *Tx) CreateKey(pk *ProductKey) error {
	return mapError(tx.db.Create(pk).Error)
}

// KeyListing returns key keyID with its product, or ErrNoSuchProductKey.
func (s *Store) KeyListing(ctx context.Context, keyID int64) (*KeyListing, error) {
	var rows []KeyListing
	if err := keyListings(s.db.WithContext(ctx)).Where("k.id = ?", keyID).Scan(&rows).Error; err != nil {
		return nil, mapError(err)
	}
	if len(rows) == 0 {
		return nil, ErrNoSuchProductKey
	}
	return &rows[0], nil
}
