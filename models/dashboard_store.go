package models

import "context"

// The reads of the home page dashboard. Each takes the licences the caller
// may see (from the authorization graph) and reads outside a transaction.

// KeyUsage is a MAK with its licence and product, for the dashboard.
type KeyUsage struct {
	KeyID           int64
	AgreementNumber string
	Product         string
	Suffix          string
	ActivationLimit int64
	ActivationsUsed int64
}

// PendingRequestCount returns how many access requests to the licences
// wait for a decision.
func (s *Store) PendingRequestCount(ctx context.Context, licences []int64) (int64, error) {
	var total int64
	for _, chunk := range chunks(licences, importBatch) {
		var n int64
		err := s.db.WithContext(ctx).Model(&AccessRequest{}).
			Where("agreement_id IN ? AND status = ?", chunk, RequestPending).Count(&n).Error
		if err != nil {
			return 0, mapError(err)
		}
		total += n
	}
	return total, nil
}

// RecentRequestsBy returns user's newest access requests, at most limit.
func (s *Store) RecentRequestsBy(ctx context.Context, user int64, limit int) ([]AccessRequest, error) {
	var rs []AccessRequest
	err := s.db.WithContext(ctx).Where("requester_id = ?", user).Order("created_at DESC, id DESC").Limit(limit).Find(&rs).Error
	return rs, mapError(err)
}

// KeysNearlyUsedUp returns the MAKs of the licences that have used at
// least percent of their activations, fullest first.
func (s *Store) KeysNearlyUsedUp(ctx context.Context, licences []int64, percent int64) ([]KeyUsage, error) {
	var out []KeyUsage
	for _, chunk := range chunks(licences, importBatch) {
		var ks []KeyUsage
		err := s.db.WithContext(ctx).Table("product_keys AS k").
			Select("k.id AS key_id, a.number AS agreement_number, p.name AS product, k.suffix, k.activation_limit, k.activations_used").
			Joins("JOIN agreements a ON a.id = k.agreement_id").
			Joins("JOIN products p ON p.id = k.product_id").
			Where("k.agreement_id IN ? AND k.activation_limit > 0 AND k.activations_used IS NOT NULL", chunk).
			Where("k.activations_used * 100 >= k.activation_limit * ?", percent).
			Scan(&ks).Error
		if err != nil {
			return nil, err
		}
		out = append(out, ks...)
	}
	return out, nil
}

// SoleAdministrations returns those of the licences on which user holds a
// stored administrator grant and nobody else does.
func (s *Store) SoleAdministrations(ctx context.Context, user int64, licences []int64) ([]int64, error) {
	var out []int64
	for _, chunk := range chunks(licences, importBatch) {
		var ids []int64
		err := s.db.WithContext(ctx).Model(&Grant{}).
			Select("agreement_id").
			Where("agreement_id IN ? AND permission = ?", chunk, PermAdministrator).
			Group("agreement_id").
			Having("COUNT(DISTINCT user_id) = 1 AND MAX(user_id) = ?", user).
			Pluck("agreement_id", &ids).Error
		if err != nil {
			return nil, err
		}
		out = append(out, ids...)
	}
	return out, nil
}

// OperatorQueues returns the lengths of the operators' queues: access
// requests that failed (no administrator could decide them) and requests
// for more activations that wait for a decision.
func (s *Store) OperatorQueues(ctx context.Context) (failedRequests, pendingActivations int64, err error) {
	if err = s.db.WithContext(ctx).Model(&AccessRequest{}).Where("status = ?", RequestFailed).Count(&failedRequests).Error; err != nil {
		return 0, 0, err
	}
	err = s.db.WithContext(ctx).Model(&ActivationRequest{}).Where("status = ?", RequestPending).Count(&pendingActivations).Error
	return failedRequests, pendingActivations, err
}
