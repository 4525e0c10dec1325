package models

import "time"

// PermOperator is the global role of the service center's own staff.
const PermOperator Permission = "operator"

// GrantSource says where a stored grant comes from.
type GrantSource string

// Grant sources. Inherited administration is computed, never stored.
const (
	SourceDirect    GrantSource = "direct"    // given by an administrator or operator
	SourceContact   GrantSource = "contact"   // from an agreement contact matching the work email
	SourceInherited GrantSource = "inherited" // from an inheriting MBSA administrator
)

// Grant is a permission a user holds on a licence (AgreementID nil for the
// global operator role).
type Grant struct {
	ID          int64
	UserID      int64
	AgreementID *int64
	Permission  Permission
	Source      GrantSource
	GrantedBy   *int64
	CreatedAt   time.Time
}

// InheritanceChoice is an MBSA administrator's answer to whether they
// administer every agreement under the MBSA.
type InheritanceChoice struct {
	UserID   int64 `gorm:"primaryKey"`
	MBSAID   int64 `gorm:"primaryKey;column:mbsa_id"`
	Inherit  bool
	ChosenAt time.Time
}
