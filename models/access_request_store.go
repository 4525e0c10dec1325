package models

import (
	"context"
	"time"
)

// LockAccessRequests serialises, until tx ends, the access requests filed
// by user and those from the client address (when given), so that counting
// their failures and recording the next one cannot interleave. SQLite
// transactions are serialised already.
func (tx *Tx) LockAccessRequests(user int64, client string) error {
	if tx.store.dialect != DialectPostgres {
		return nil
	}
	// Always user first, then address: one order, no deadlock.
	if err := tx.advisoryLock("access-request-user", user); err != nil {
		return err
	}
	if client == "" {
		return nil
	}
	return tx.advisoryLock("access-request-client:"+client, 0)
}

// advisoryLock takes a PostgreSQL transaction-scoped advisory lock on the
// key (name, n).
func (tx *Tx) advisoryLock(name string, n int64) error {
	return tx.db.Exec("SELECT pg_advisory_xact_lock(hashtext(?), ?::int)", name, int32(n)).Error
}

// RecentFailures returns the times of the newest failed access requests
// since since, at most limit of them, newest first: those filed by user and
// those filed from the client address ("" gives none).
func (tx *Tx) RecentFailures(user int64, client string, since time.Time, limit int) (byUser, byClient []time.Time, err error) {
	q := tx.db.Model(&AccessRequest{}).Where("status = ? AND created_at > ? AND requester_id = ?", RequestFailed, since, user)
	if err = q.Order("created_at DESC").Limit(limit).Pluck("created_at", &byUser).Error; err != nil || client == "" {
		return byUser, nil, err
	}
	q = tx.db.Model(&AccessRequest{}).Where("status = ? AND created_at > ? AND client_address = ?", RequestFailed, since, client)
	err = q.Order("created_at DESC").Limit(limit).Pluck("created_at", &byClient).Error
	return byUser, byClient, err
}

// CreateAccessRequest records req and sets its id.
func (tx *Tx) CreateAccessRequest(req *AccessRequest) error {
	return tx.db.Create(req).Error
}

// PendingAccessRequestLike returns user's pending request on agreement for
// exactly perms (comma-separated), or nil.
func (tx *Tx) PendingAccessRequestLike(user, agreement int64, perms string) (*AccessRequest, error) {
	var req AccessRequest
	err := tx.db.Where("requester_id = ? AND agreement_id = ? AND status = ? AND permissions = ?",
		user, agreement, RequestPending, perms).Limit(1).Find(&req).Error
	if err != nil || req.ID == 0 {
		return nil, err
	}
	return &req, nil
}

// AccessRequestForUpdate returns the access request id, locked until tx
// ends so that two decisions on it queue.
func (tx *Tx) AccessRequestForUpdate(id int64) (*AccessRequest, error) {
	var req AccessRequest
	q := tx.forUpdate()
	if err := q.Take(&req, id).Error; err != nil {
		return nil, mapError(err)
	}
	return &req, nil
}

// AccessRequestClosing is how a pending access request ends.
type AccessRequestClosing struct {
	Status             RequestStatus
	DecisionMessage    string
	GrantedPermissions string // comma-separated
	DecidedBy          *int64 // the deciding administrator, if any
}

// CloseAccessRequest moves request id to c.Status if it is still pending,
// and reports whether it was.
func (tx *Tx) CloseAccessRequest(id int64, c AccessRequestClosing) (bool, error) {
	now := tx.Now()
	updates := map[string]any{"status": c.Status, "updated_at": now, "decision_message": c.DecisionMessage,
		"granted_permissions": c.GrantedPermissions}
	if c.DecidedBy != nil {
		updates["decided_by"], updates["decided_at"] = *c.DecidedBy, now
	}
	res := tx.db.Model(&AccessRequest{}).Where("id = ? AND status = ?", id, RequestPending).Updates(updates)
	return res.RowsAffected > 0, res.Error
}

// AccessRequestsBy returns the requests filed by requester, newest first.
func (s *Store) AccessRequestsBy(ctx context.Context, requester int64) ([]AccessRequest, error) {
	var reqs []AccessRequest
	err := s.db.WithContext(ctx).Where("requester_id = ?", requester).Order("id DESC").Find(&reqs).Error
	return reqs, mapError(err)
}

// PendingAccessRequestsOn returns the unexpired pending requests on the
// agreements, oldest first.
func (s *Store) PendingAccessRequestsOn(ctx context.Context, agreements []int64) ([]AccessRequest, error) {
	out := []AccessRequest{}
	for _, chunk := range chunks(agreements, 500) {
		var reqs []AccessRequest
		err := s.db.WithContext(ctx).Where("agreement_id IN ? AND status = ? AND expires_at > ?", chunk, RequestPending, s.Now()).
			Order("id").Find(&reqs).Error
		if err != nil {
			return nil, mapError(err)
		}
		out = append(out, reqs...)
	}
	return out, nil
}

// ExpiredAccessRequests returns the pending requests past their expiry.
func (s *Store) ExpiredAccessRequests(ctx context.Context) ([]AccessRequest, error) {
	var reqs []AccessRequest
	err := s.db.WithContext(ctx).Where("status = ? AND expires_at <= ?", RequestPending, s.Now()).Find(&reqs).Error
	return reqs, mapError(err)
}
