package models

import "time"

// Key types with special handling; other types are stored as given.
const (
	KeyTypeMAK = "mak"
	KeyTypeKMS = "kms"
)

// ProductKey is a product key of a licence. The key itself is sealed.
type ProductKey struct {
	ID              int64
	AgreementID     int64
	ProductID       int64
	KeyType         string
	SealedKey       []byte `json:"-"`
	Fingerprint     string `json:"-"`
	Suffix          string // last five characters, shown in masked lists
	ActivationLimit *int64
	ActivationsUsed *int64
	ActivationsAsOf *time.Time
	Status          KeyStatus
	BlockReason     BlockReason
	StatusNote      string
	StatusChangedAt *time.Time
	ReplacesID      *int64 // the key this one replaces
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// keyPurpose keys the fingerprints of product keys.
const keyPurpose = "product-key"

// KeyFingerprint returns the keyed hash that identifies a product key.
func (k *Keyring) KeyFingerprint(key string) string { return k.Hash(keyPurpose, key) }

// SealKey encrypts product key material, bound to its fingerprint.
func (k *Keyring) SealKey(key, fingerprint string) []byte {
	return k.Seal([]byte(key), []byte(keyPurpose+":"+fingerprint))
}

// OpenKey decrypts the key material of pk.
func (k *Keyring) OpenKey(pk *ProductKey) (string, error) {
	b, err := k.Open(pk.SealedKey, []byte(keyPurpose+":"+pk.Fingerprint))
	return string(b), err
}

// ActivationRequest asks the operators for more MAK activations.
type ActivationRequest struct {
	ID              int64
	KeyID           int64
	RequesterID     int64
	Quantity        int64
	Reason          string
	Status          RequestStatus
	DecidedBy       *int64
	DecidedAt       *time.Time
	DecisionMessage string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}
