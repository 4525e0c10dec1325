package models

import "time"

// Product is a catalog product, such as "Windows Enterprise".
type Product struct {
	ID        int64
	Code      string // stable identifier used by imports, e.g. "win-ent"
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ProductVersion is one version and edition of a product.
type ProductVersion struct {
	ID        int64
	ProductID int64
	Version   string
	Edition   string
	Released  Date
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ProductFile is a downloadable file of a product version in one language.
type ProductFile struct {
	ID        int64
	VersionID int64
	Name      string
	Language  string // BCP 47 tag
	Size      int64
	SHA256    string `gorm:"column:sha256"`
	Path      string // relative to the storage directory
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Entitlement entitles a licence to a product version (and, by downgrade
// right, to earlier versions of the same product and edition).
type Entitlement struct {
	ID          int64
	AgreementID int64
	VersionID   int64
	CreatedAt   time.Time
}
