package models

import (
	"context"
	"strings"
)

// Entitled is a product version a licence is entitled to.
type Entitled struct {
	Product string
	Version string
	Edition string
}

// LicenceRecord is a licence with its organisation, the number of the
// agreement above it and its entitlements.
type LicenceRecord struct {
	Agreement
	Organization Organization
	ParentNumber string // "" when the licence stands alone
	Entitlements []Entitled
}

// Licence returns the licence with id and what belongs to it; a not-found
// Error when there is none.
func (s *Store) Licence(ctx context.Context, id int64) (*LicenceRecord, error) {
	db := s.db.WithContext(ctx)
	var r LicenceRecord
	if err := db.Take(&r.Agreement, id).Error; err != nil {
		return nil, mapError(err)
	}
	if err := db.Take(&r.Organization, r.OrganizationID).Error; err != nil {
		return nil, mapError(err)
	}
	if r.ParentID != nil {
		var parent Agreement
		if err := db.Select("number").Where("id = ?", *r.ParentID).Limit(1).Find(&parent).Error; err != nil {
			return nil, mapError(err)
		}
		r.ParentNumber = parent.Number
	}
	r.Entitlements = []Entitled{}
	err := db.Table("entitlements AS e").
		Select("p.name AS product, v.version, v.edition").
		Joins("JOIN product_versions v ON v.id = e.version_id").
		Joins("JOIN products p ON p.id = v.product_id").
		Where("e.agreement_id = ?", id).Order("p.name, v.version, v.edition").Scan(&r.Entitlements).Error
	if err != nil {
		return nil, mapError(err)
	}
	return &r, nil
}

// AgreementByNumber returns the agreement with number, or nil when there
// is none.
func (s *Store) AgreementByNumber(ctx context.Context, number string) (*Agreement, error) {
	var ag Agreement
	err := s.db.WithContext(ctx).Where("number = ?", number).Limit(1).Find(&ag).Error
	if err != nil || ag.ID == 0 {
		return nil, mapError(err)
	}
	return &ag, nil
}

// AgreementNumber returns the number of agreement id, read in tx.
func (tx *Tx) AgreementNumber(id int64) (string, error) {
	var ag Agreement
	if err := tx.db.Select("number").Take(&ag, id).Error; err != nil {
		return "", mapError(err)
	}
	return ag.Number, nil
}

// OrganizationDomains returns the email domains of the contacts of every
// agreement of the organisation that holds agreement: what counts as
// inside that organisation.
func (s *Store) OrganizationDomains(ctx context.Context, agreement int64) (map[string]bool, error) {
	var emails []string
	err := s.db.WithContext(ctx).Table("agreement_contacts AS c").
		Joins("JOIN agreements ag ON ag.id = c.agreement_id").
		Where("ag.organization_id = (SELECT organization_id FROM agreements WHERE id = ?)", agreement).
		Distinct().Pluck("c.email", &emails).Error
	out := map[string]bool{}
	for _, e := range emails {
		out[e[strings.LastIndexByte(e, '@')+1:]] = true
	}
	return out, mapError(err)
}

// ContactsNaming returns the agreement contacts naming email, on the given
// agreements (nil: all of them), read in tx.
func (tx *Tx) ContactsNaming(email string, agreements []int64) ([]AgreementContact, error) {
	q := tx.db.Model(&AgreementContact{}).Where("email = ?", email)
	if agreements != nil {
		q = q.Where("agreement_id IN ?", agreements)
	}
	var out []AgreementContact
	return out, mapError(q.Find(&out).Error)
}

// LicenceGrantsOf returns user's stored grants on licences (not the
// operator role).
func (s *Store) LicenceGrantsOf(ctx context.Context, user int64) ([]Grant, error) {
	var gs []Grant
	err := s.db.WithContext(ctx).Where("user_id = ? AND agreement_id IS NOT NULL", user).Find(&gs).Error
	return gs, mapError(err)
}

// AdministeredMBSAs returns the MBSAs on which user holds a stored
// administrator grant, by number.
func (s *Store) AdministeredMBSAs(ctx context.Context, user int64) ([]Agreement, error) {
	db := s.db.WithContext(ctx)
	var out []Agreement
	err := db.Where("program = ? AND id IN (?)", ProgramMBSA,
		db.Model(&Grant{}).Select("agreement_id").Where("user_id = ? AND permission = ?", user, PermAdministrator)).
		Order("number").Find(&out).Error
	return out, mapError(err)
}

// ContactGrantsOf returns user's contact-derived grants on the given
// agreements (nil: all of them), read in tx.
func (tx *Tx) ContactGrantsOf(user int64, agreements []int64) ([]Grant, error) {
	q := tx.db.Model(&Grant{}).Where("user_id = ? AND source = ? AND agreement_id IS NOT NULL", user, SourceContact)
	if agreements != nil {
		q = q.Where("agreement_id IN ?", agreements)
	}
	var out []Grant
	return out, mapError(q.Find(&out).Error)
}

// GrantsOn returns user's stored grants on agreement, read in tx.
func (tx *Tx) GrantsOn(user, agreement int64) ([]Grant, error) {
	var out []Grant
	err := tx.db.Where("user_id = ? AND agreement_id = ?", user, agreement).Order("id").Find(&out).Error
	return out, mapError(err)
}
