package models

import "context"

// OrderLine is an order line with its product's code and name, as the
// licence summary lists it.
type OrderLine struct {
	Order
	ProductCode string
	ProductName string
}

// OrderLinesOf returns the order lines of the given agreements, by
// agreement, product name, order date and order number.
func (s *Store) OrderLinesOf(ctx context.Context, agreements []int64) ([]OrderLine, error) {
	var out []OrderLine
	for _, chunk := range chunks(agreements, importBatch) {
		var rows []OrderLine
		err := s.db.WithContext(ctx).Table("licence_orders AS o").
			Select("o.*, p.code AS product_code, p.name AS product_name").
			Joins("JOIN products p ON p.id = o.product_id").
			Where("o.agreement_id IN ?", chunk).
			Order("o.agreement_id, p.name, o.pool, o.ordered, o.number, o.id").Scan(&rows).Error
		if err != nil {
			return nil, mapError(err)
		}
		out = append(out, rows...)
	}
	return out, nil
}

// AgreementsUnder returns the agreements whose parent is one of parents,
// by number.
func (s *Store) AgreementsUnder(ctx context.Context, parents []int64) ([]Agreement, error) {
	var out []Agreement
	for _, chunk := range chunks(parents, importBatch) {
		var rows []Agreement
		if err := s.db.WithContext(ctx).Where("parent_id IN ?", chunk).Order("number").Find(&rows).Error; err != nil {
			return nil, mapError(err)
		}
		out = append(out, rows...)
	}
	return out, nil
}

// OrganizationsByID returns the organisations with the given ids, by id.
func (s *Store) OrganizationsByID(ctx context.Context, ids []int64) (map[int64]Organization, error) {
	out := make(map[int64]Organization, len(ids))
	for _, chunk := range chunks(ids, importBatch) {
		var rows []Organization
		if err := s.db.WithContext(ctx).Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, mapError(err)
		}
		for _, o := range rows {
			out[o.ID] = o
		}
	}
	return out, nil
}
