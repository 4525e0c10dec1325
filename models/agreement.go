package models

import (
	"context"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Program is the licensing program of an agreement.
type Program string

// The programs OpenLSC knows.
const (
	ProgramMBSA        Program = "mbsa"
	ProgramEnterprise  Program = "enterprise"
	ProgramSelectPlus  Program = "select_plus"
	ProgramOpenValue   Program = "open_value"
	ProgramOpenLicense Program = "open_license"
)

// Programs lists every program, in display order.
var Programs = []Program{ProgramMBSA, ProgramEnterprise, ProgramSelectPlus, ProgramOpenValue, ProgramOpenLicense}

// Valid reports whether p is a known program.
func (p Program) Valid() bool {
	for _, q := range Programs {
		if p == q {
			return true
		}
	}
	return false
}

// CanHaveParent reports whether agreements of this program may hang under an MBSA.
func (p Program) CanHaveParent() bool { return p == ProgramEnterprise || p == ProgramSelectPlus }

// ContactRole is the role a named contact has on an agreement.
type ContactRole string

// The contact roles.
const (
	ContactPrimary     ContactRole = "primary"
	ContactNotices     ContactRole = "notices"
	ContactOnlineAdmin ContactRole = "online_admin"
)

// Valid reports whether r is a known contact role.
func (r ContactRole) Valid() bool {
	return r == ContactPrimary || r == ContactNotices || r == ContactOnlineAdmin
}

// Agreement is a License ID: the unit access is granted on.
type Agreement struct {
	ID             int64
	Number         string
	Program        Program
	Name           string
	OrganizationID int64
	ParentID       *int64
	Starts         Date
	Ends           Date
	// AuthHash is the keyed hash of an Open License authorization number.
	// It is never serialised.
	AuthHash  *string `json:"-"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AgreementContact names a person (by email) with a role on an agreement.
type AgreementContact struct {
	ID          int64
	AgreementID int64
	Email       string // normalised with NormalizeEmail
	Role        ContactRole
	CreatedAt   time.Time
}

// authNumberPurpose keys the hash of Open License authorization numbers.
const authNumberPurpose = "open-license-authorization-number"

// HashAuthorizationNumber returns the keyed hash stored for an Open License
// authorization number.
func (k *Keyring) HashAuthorizationNumber(n string) string {
	return k.Hash(authNumberPurpose, strings.TrimSpace(n))
}

// NormalizeEmail returns the form emails are compared in: Unicode NFKC,
// trimmed, lower case.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(norm.NFKC.String(email)))
}

// AgreementID returns the id of the agreement with the given number.
func (s *Store) AgreementID(ctx context.Context, number string) (int64, error) {
	var a Agreement
	err := s.db.WithContext(ctx).Select("id").Where("number = ?", number).Take(&a).Error
	return a.ID, mapError(err)
}

// AgreementsByID returns the agreements with the given ids, by id.
func (s *Store) AgreementsByID(ctx context.Context, ids []int64) (map[int64]Agreement, error) {
	out := make(map[int64]Agreement, len(ids))
	for _, chunk := range chunks(ids, importBatch) {
		var as []Agreement
		if err := s.db.WithContext(ctx).Where("id IN ?", chunk).Find(&as).Error; err != nil {
			return nil, mapError(err)
		}
		for _, a := range as {
			out[a.ID] = a
		}
	}
	return out, nil
}
