package models

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// keyStatus returns the status and block reason the key at path p
// declares ("" when it declares none), reporting false after a problem.
func (im *importer) keyStatus(p string, k ImportKey) (KeyStatus, BlockReason, bool) {
	status := KeyStatus(strings.ToLower(strings.TrimSpace(k.Status)))
	reason := BlockReason(strings.ToLower(strings.TrimSpace(k.BlockReason)))
	switch {
	case status != "" && !status.Valid():
		im.problem(p+".status", "err.import.key_status", "%s is not a key status; use active, blocked or retired", describe(k.Status))
	case status == KeyBlocked && !reason.Valid():
		im.problem(p+".block_reason", "err.import.block_reason", "%s; a blocked key needs its reason: leaked, fraud or replaced", describe(k.BlockReason))
	case status != KeyBlocked && reason != "":
		im.problem(p+".block_reason", "err.import.block_reason_unblocked", "only a blocked key has a block reason")
	default:
		return status, reason, true
	}
	return "", "", false
}

// planKeyStatus completes row's status from the stored key when the
// document gives none, and reports whether the status changes; a change
// of a stored key is listed in the result for the audit log.
func (im *importer) planKeyStatus(stored *ProductKey, row *ProductKey) bool {
	if row.Status == "" {
		if stored == nil {
			row.Status = KeyActive
			return false
		}
		row.Status, row.BlockReason, row.StatusChangedAt = stored.Status, stored.BlockReason, stored.StatusChangedAt
		return false
	}
	if stored == nil {
		if row.Status != KeyActive {
			now := im.now
			row.StatusChangedAt = &now
		}
		return false
	}
	if stored.Status == row.Status && stored.BlockReason == row.BlockReason {
		row.StatusChangedAt = stored.StatusChangedAt
		return false
	}
	now := im.now
	row.StatusChangedAt = &now
	im.res.KeyStatusChanges = append(im.res.KeyStatusChanges, KeyStatusChange{
		KeyID: stored.ID, Suffix: stored.Suffix, From: stored.Status, To: row.Status, Reason: row.BlockReason,
	})
	return true
}

// orderBatch validates a batch of order lines, the first at index first,
// against the stored ones and, while the import is clean, stores the new
// and changed ones.
func (im *importer) orderBatch(first int, batch []ImportOrder) error {
	checkRecordsText(im, "orders", first, batch)
	numbers := make([]string, len(batch))
	for i, o := range batch {
		numbers[i] = strings.TrimSpace(o.Agreement)
	}
	refs, err := im.agreementRefs(numbers)
	if err != nil {
		return err
	}
	stored, err := im.storedOrdersOf(refs)
	if err != nil {
		return err
	}
	var rows []Order
	for i, o := range batch {
		if row, ok := im.validateOrder(first+i, o, refs, stored); ok {
			rows = append(rows, row)
		}
	}
	if !im.writing() {
		return nil
	}
	err = upsert(im.tx.db, rows, []string{"agreement_id", "number", "product_id", "version", "edition"},
		"ordered", "quantity", "licence_type", "sa_ends", "pool", "updated_at")
	if err != nil {
		return fmt.Errorf("store orders: %w", err)
	}
	return nil
}

// orderIDs identifies a stored order line.
type orderIDs struct {
	agreement, product       int64
	number, version, edition string
}

// storedOrdersOf reads the stored order lines of the agreements refs.
func (im *importer) storedOrdersOf(refs map[string]int64) (map[orderIDs]*Order, error) {
	out := map[orderIDs]*Order{}
	err := findIn(im.tx.db, nil, "agreement_id", storedIDs(refs), func(o *Order) {
		out[orderIDs{o.AgreementID, o.ProductID, o.Number, o.Version, o.Edition}] = o
	})
	return out, err
}

// validateOrder checks the order line at index i and, when it is new or
// changed, returns its row.
func (im *importer) validateOrder(i int, o ImportOrder, refs map[string]int64, stored map[orderIDs]*Order) (Order, bool) {
	p := fmt.Sprintf("orders[%d]", i)
	key := orderKey{
		agreement: strings.TrimSpace(o.Agreement), number: strings.TrimSpace(o.Number),
		product: strings.TrimSpace(o.Product), version: strings.TrimSpace(o.Version), edition: strings.TrimSpace(o.Edition),
	}
	row, ok := im.orderRow(p, key, o, refs)
	if !ok {
		return Order{}, false
	}
	if j, dup := im.seenOrders.add(recordHash(key.agreement, key.number, key.product, key.version, key.edition), i); dup {
		im.problem(p, "err.import.order_twice", "this line repeats orders[%d] (same agreement, order number, product, version and edition)", j)
		return Order{}, false
	}
	row.AgreementID = refs[key.agreement]
	if pr := im.products[key.product]; pr != nil {
		row.ProductID = pr.ID
	}
	s := stored[orderIDs{row.AgreementID, row.ProductID, key.number, key.version, key.edition}]
	switch {
	case s == nil:
		im.res.Orders.Created++
	case !s.Ordered.Equal(row.Ordered) || s.Quantity != row.Quantity || s.LicenceType != row.LicenceType ||
		!s.SAEnds.Equal(row.SAEnds) || s.Pool != row.Pool:
		im.res.Orders.Updated++
	default:
		im.res.Orders.Unchanged++
		return Order{}, false
	}
	return row, true
}

// orderRow checks the order line at path p and returns its row, reporting
// false after a problem.
func (im *importer) orderRow(p string, key orderKey, o ImportOrder, refs map[string]int64) (Order, bool) {
	ok := im.agreementKnown(p+".agreement", key.agreement, refs)
	if !numberPattern.MatchString(key.number) {
		im.problem(p+".number", "err.import.order_number", "%s; give the order number (1 to 64 letters, digits, '.', '_' or '-')", describe(o.Number))
		ok = false
	}
	ordered := im.date(p+".date", o.Date)
	if ordered.IsZero() && strings.TrimSpace(o.Date) == "" {
		im.problem(p+".date", "err.import.order_date", "give the order date (YYYY-MM-DD)")
		ok = false
	}
	ok = im.orderProduct(p, key) && ok
	switch {
	case o.Quantity == nil:
		im.problem(p+".quantity", "err.import.quantity_missing", "give the quantity (negative for a return)")
		ok = false
	case *o.Quantity == 0 || *o.Quantity > 10_000_000 || *o.Quantity < -10_000_000:
		im.problem(p+".quantity", "err.import.quantity", "%d is not a quantity; use a whole number other than 0 (negative for a return)", *o.Quantity)
		ok = false
	}
	typ := LicenceType(strings.TrimSpace(o.LicenceType))
	if !typ.Valid() {
		im.problem(p+".licence_type", "err.import.licence_type", "%s is not a licence type; use licence, licence_sa, sa or subscription", describe(o.LicenceType))
		ok = false
	}
	saEnds := im.date(p+".sa_ends", o.SAEnds)
	switch hasSA := strings.TrimSpace(o.SAEnds) != ""; {
	case typ.HasSA() && !hasSA:
		im.problem(p+".sa_ends", "err.import.sa_ends_missing", "a %s line needs the date its Software Assurance ends", typ)
		ok = false
	case typ.Valid() && !typ.HasSA() && hasSA:
		im.problem(p+".sa_ends", "err.import.sa_ends_unexpected", "a %s line has no Software Assurance", typ)
		ok = false
	}
	pool := Pool(strings.TrimSpace(o.Pool))
	if !pool.Valid() {
		im.problem(p+".pool", "err.import.pool", "%s is not a pool; use applications, systems or servers", describe(o.Pool))
		ok = false
	}
	if !ok {
		return Order{}, false
	}
	return Order{
		Number: key.number, Ordered: ordered, Version: key.version, Edition: key.edition,
		Quantity: *o.Quantity, LicenceType: typ, SAEnds: saEnds, Pool: pool, CreatedAt: im.now, UpdatedAt: im.now,
	}, true
}

// orderProduct checks the product, version and edition of an order line.
func (im *importer) orderProduct(p string, key orderKey) bool {
	if !im.productKnown(p+".product", key.product) {
		return false
	}
	if utf8.RuneCountInString(key.version) > 64 || utf8.RuneCountInString(key.edition) > 64 {
		im.problem(p+".version", "err.import.order_version_long", "the version and the edition are at most 64 characters each")
		return false
	}
	if key.version == "" {
		if key.edition != "" {
			im.problem(p+".edition", "err.import.edition_without_version", "give the version the edition belongs to")
			return false
		}
		return true
	}
	for _, k := range im.byProduct[key.product] {
		if k.version == key.version && (key.edition == "" || k.edition == key.edition) {
			return true
		}
	}
	im.problem(p+".version", "err.import.no_version_edition", "product %q has no version %q in edition %q", key.product, key.version, key.edition)
	return false
}
