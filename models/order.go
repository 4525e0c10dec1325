package models

import "time"

// LicenceType is what an order line buys.
type LicenceType string

// The licence types of an order line.
const (
	LicenceOnly         LicenceType = "licence"      // a perpetual licence without Software Assurance
	LicenceWithSA       LicenceType = "licence_sa"   // a perpetual licence with Software Assurance
	SAOnly              LicenceType = "sa"           // Software Assurance for licences owned already
	LicenceSubscription LicenceType = "subscription" // a subscription licence
)

// LicenceTypes lists every licence type, in display order.
var LicenceTypes = []LicenceType{LicenceOnly, LicenceWithSA, SAOnly, LicenceSubscription}

// Valid reports whether t is a known licence type.
func (t LicenceType) Valid() bool {
	for _, u := range LicenceTypes {
		if t == u {
			return true
		}
	}
	return false
}

// CountsLicences reports whether lines of this type add licences (SA
// only covers licences counted elsewhere).
func (t LicenceType) CountsLicences() bool { return t != SAOnly }

// HasSA reports whether lines of this type carry Software Assurance.
func (t LicenceType) HasSA() bool { return t == LicenceWithSA || t == SAOnly }

// Pool is the product pool of an order line, as Microsoft's volume
// licensing groups products.
type Pool string

// The pools.
const (
	PoolApplications Pool = "applications"
	PoolSystems      Pool = "systems"
	PoolServers      Pool = "servers"
)

// Pools lists every pool, in display order.
var Pools = []Pool{PoolApplications, PoolSystems, PoolServers}

// Valid reports whether p is a known pool.
func (p Pool) Valid() bool { return p == PoolApplications || p == PoolSystems || p == PoolServers }

// Order is one line of an order on an agreement: a quantity (negative for
// a return) of one product, of one licence type.
type Order struct {
	ID          int64
	AgreementID int64
	Number      string // the order number
	Ordered     Date
	ProductID   int64
	Version     string // "" when the line is not for one version
	Edition     string
	Quantity    int64
	LicenceType LicenceType
	SAEnds      Date `gorm:"column:sa_ends"` // end of Software Assurance coverage, if any
	Pool        Pool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName names the table of orders ("order" is an SQL keyword).
func (Order) TableName() string { return "licence_orders" }

// KeyStatus is the lifecycle state of a product key.
type KeyStatus string

// The key states.
const (
	KeyActive  KeyStatus = "active"
	KeyBlocked KeyStatus = "blocked" // no longer revealed, no more activations
	KeyRetired KeyStatus = "retired" // no longer in use
)

// Valid reports whether s is a known key status.
func (s KeyStatus) Valid() bool { return s == KeyActive || s == KeyBlocked || s == KeyRetired }

// BlockReason says why a key was blocked.
type BlockReason string

// The reasons for blocking a key.
const (
	BlockLeaked   BlockReason = "leaked"   // published or offered for sale
	BlockFraud    BlockReason = "fraud"    // obtained or used fraudulently
	BlockReplaced BlockReason = "replaced" // superseded by another key
)

// Valid reports whether r is a known block reason.
func (r BlockReason) Valid() bool { return r == BlockLeaked || r == BlockFraud || r == BlockReplaced }
