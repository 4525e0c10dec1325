package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// KeyListing is a product key with its product, as key lists show it.
type KeyListing struct {
	ProductKey
	ProductName    string
	ProductCode    string
	ReplacesSuffix string // of the key this one replaces, if any
}

// ActivationListing is an activation request with its key, product and
// licence, as request lists show it.
type ActivationListing struct {
	ActivationRequest
	Suffix          string
	ProductName     string
	Licence         string // agreement number
	Organization    string
	ActivationLimit *int64
	ActivationsUsed *int64
	RequesterName   string  // the requester's display name
	RequesterEmail  *string // and work email, if any
}

// ActivationDecision is what deciding an activation request needs: the
// request (locked until the transaction ends), its key, the number of the
// key's licence and the requester.
type ActivationDecision struct {
	Request   ActivationRequest
	Key       ProductKey
	Licence   string
	Requester User
}

// Errors of the product key queries.
var (
	// ErrNoSuchActivation is an activation request that does not exist.
	ErrNoSuchActivation = New(CodeNotFound, "err.activation.not_found", "No such activation request.")
	// ErrNoSuchProductKey is a product key that does not exist.
	ErrNoSuchProductKey = New(CodeNotFound, "err.key.not_found", "No such product key.")
)

// forUpdate locks the rows a query reads until the transaction ends, on
// PostgreSQL; SQLite's immediate transactions serialise writers already
// (its driver drops the clause).
func forUpdate(db *gorm.DB, lock bool) *gorm.DB {
	if !lock {
		return db
	}
	return db.Clauses(clause.Locking{Strength: "UPDATE"})
}

func keyListings(db *gorm.DB) *gorm.DB {
	return db.Table("product_keys AS k").
		Select("k.*, p.name AS product_name, p.code AS product_code, COALESCE(rk.suffix, '') AS replaces_suffix").
		Joins("JOIN products p ON p.id = k.product_id").
		Joins("LEFT JOIN product_keys rk ON rk.id = k.replaces_id")
}

func activationListings(db *gorm.DB) *gorm.DB {
	return db.Table("activation_requests AS r").
		Select("r.*, k.suffix, k.activation_limit, k.activations_used, p.name AS product_name, ag.number AS licence, o.name AS organization, " +
			"COALESCE(u.display_name, '') AS requester_name, u.work_email AS requester_email").
		Joins("JOIN product_keys k ON k.id = r.key_id").
		Joins("JOIN products p ON p.id = k.product_id").
		Joins("JOIN agreements ag ON ag.id = k.agreement_id").
		Joins("JOIN organizations o ON o.id = ag.organization_id").
		Joins("LEFT JOIN users u ON u.id = r.requester_id")
}

// KeysOf returns the product keys of licence with their products, by
// product name, key type and id.
func (s *Store) KeysOf(ctx context.Context, licence int64) ([]KeyListing, error) {
	var rows []KeyListing
	err := keyListings(s.db.WithContext(ctx)).Where("k.agreement_id = ?", licence).
		Order("p.name, k.key_type, k.id").Scan(&rows).Error
	return rows, mapError(err)
}

// ActivationRequestsBy returns the activation requests requester made,
// newest first.
func (s *Store) ActivationRequestsBy(ctx context.Context, requester int64) ([]ActivationListing, error) {
	var rows []ActivationListing
	err := activationListings(s.db.WithContext(ctx)).Where("r.requester_id = ?", requester).Order("r.id DESC").Scan(&rows).Error
	return rows, mapError(err)
}

// PendingActivationRequests returns up to limit pending activation
// requests, oldest first.
func (s *Store) PendingActivationRequests(ctx context.Context, limit int) ([]ActivationListing, error) {
	var rows []ActivationListing
	err := activationListings(s.db.WithContext(ctx)).Where("r.status = ?", RequestPending).Order("r.id").Limit(limit).Scan(&rows).Error
	return rows, mapError(err)
}

// KeyOf returns the key keyID of licence; a key of another licence is
// ErrNoSuchProductKey.
func (tx *Tx) KeyOf(licence, keyID int64) (*ProductKey, error) {
	var pk ProductKey
	err := tx.db.Where("id = ? AND agreement_id = ?", keyID, licence).Take(&pk).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoSuchProductKey
	}
	return &pk, mapError(err)
}

// KeysEndingIn returns the keys of licence whose suffix is suffix
// (compared in upper case), by id.
func (tx *Tx) KeysEndingIn(licence int64, suffix string) ([]ProductKey, error) {
	var keys []ProductKey
	err := tx.db.Where("agreement_id = ? AND UPPER(suffix) = ?", licence, suffix).Order("id").Find(&keys).Error
	return keys, mapError(err)
}

// CreateActivationRequest stores req and sets its id.
func (tx *Tx) CreateActivationRequest(req *ActivationRequest) error {
	return mapError(tx.db.Create(req).Error)
}

// ActivationListing returns the request id with its key, product and licence.
func (tx *Tx) ActivationListing(id int64) (*ActivationListing, error) {
	var rows []ActivationListing
	if err := activationListings(tx.db).Where("r.id = ?", id).Scan(&rows).Error; err != nil {
		return nil, mapError(err)
	}
	if len(rows) == 0 {
		return nil, ErrNoSuchActivation
	}
	return &rows[0], nil
}

// ActivationDecisionOf returns activation request id, locked until the
// transaction ends so that two decisions on it queue, with its key,
// licence number and requester.
func (tx *Tx) ActivationDecisionOf(id int64) (*ActivationDecision, error) {
	var d ActivationDecision
	err := forUpdate(tx.db, true).Take(&d.Request, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoSuchActivation
	}
	if err != nil {
		return nil, mapError(err)
	}
	if err := tx.db.Take(&d.Key, d.Request.KeyID).Error; err != nil {
		return nil, mapError(err)
	}
	var ag Agreement
	if err := tx.db.Select("id", "number").Take(&ag, d.Key.AgreementID).Error; err != nil {
		return nil, mapError(err)
	}
	d.Licence = ag.Number
	if err := tx.db.Take(&d.Requester, d.Request.RequesterID).Error; err != nil {
		return nil, mapError(err)
	}
	return &d, nil
}

// DecideActivationRequest records the decision on request id if it is
// still pending, and reports whether it was.
func (tx *Tx) DecideActivationRequest(id int64, status RequestStatus, by int64, message string) (bool, error) {
	now := tx.Now()
	res := tx.db.Model(&ActivationRequest{}).Where("id = ? AND status = ?", id, RequestPending).
		Updates(map[string]any{"status": status, "decided_by": by, "decided_at": now, "decision_message": message, "updated_at": now})
	if res.Error != nil {
		return false, mapError(res.Error)
	}
	return res.RowsAffected == 1, nil
}

// RaiseActivationLimit adds quantity to key keyID's activation limit (an
// unknown limit counts as 0) in one statement, so that two raises at once
// both count, and returns the limit before and after.
func (tx *Tx) RaiseActivationLimit(keyID, quantity int64) (old, limit int64, err error) {
	var rows []struct{ ActivationLimit int64 }
	err = tx.db.Raw("UPDATE product_keys SET activation_limit = COALESCE(activation_limit, 0) + ?, updated_at = ? WHERE id = ? RETURNING activation_limit",
		quantity, tx.Now(), keyID).Scan(&rows).Error
	if err != nil {
		return 0, 0, mapError(err)
	}
	if len(rows) == 0 {
		return 0, 0, ErrNoSuchProductKey
	}
	limit = rows[0].ActivationLimit
	return limit - quantity, limit, nil
}

// KeyListingForUpdate returns key keyID with its product, locked until
// the transaction ends so that counts decided from it stay current.
func (tx *Tx) KeyListingForUpdate(keyID int64) (*KeyListing, error) {
	// Only the key's row is locked, not its product's.
	var pk ProductKey
	err := forUpdate(tx.db, true).Take(&pk, keyID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoSuchProductKey
	}
	if err != nil {
		return nil, mapError(err)
	}
	var p Product
	if err := tx.db.Select("id", "code", "name").Take(&p, pk.ProductID).Error; err != nil {
		return nil, mapError(err)
	}
	return &KeyListing{ProductKey: pk, ProductName: p.Name, ProductCode: p.Code}, nil
}

// SetActivationCounts records key keyID's activations used and limit as
// of asOf.
func (tx *Tx) SetActivationCounts(keyID int64, used, limit *int64, asOf time.Time) error {
	return mapError(tx.db.Model(&ProductKey{}).Where("id = ?", keyID).Updates(map[string]any{
		"activations_used": used, "activation_limit": limit, "activations_as_of": asOf, "updated_at": tx.Now(),
	}).Error)
}
