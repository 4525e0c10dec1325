package models

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Installation is one machine that uses an activation of a product key.
// Identity is the installation's id (derived from its components when it
// first activated); Components are its component hashes as last seen,
// space-separated; Network is the client network it last activated from.
type Installation struct {
	ID         int64     `json:"id"`
	KeyID      int64     `json:"key_id"`
	Identity   string    `json:"installation"`
	Components string    `json:"-"`
	Network    string    `json:"network"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

// ActivationSigningKey is an Ed25519 key that signs activation
// certificates. Its seed is sealed with the keyring; the newest key is the
// current one, older ones stay published.
type ActivationSigningKey struct {
	ID         int64
	KID        string `gorm:"column:kid"`
	SealedSeed []byte
	PublicKey  []byte
	CreatedAt  time.Time
}

// ActivationKey is a product key as the activation service needs it: with
// its product's code, its agreement's last day and its activation counts.
type ActivationKey struct {
	ID              int64
	AgreementID     int64
	ProductCode     string
	Status          KeyStatus
	AgreementEnds   Date
	ActivationLimit *int64
	ActivationsUsed *int64
}

// UsedUp reports whether k had no activation left when it was read.
func (k *ActivationKey) UsedUp() bool {
	return k.ActivationLimit != nil && k.ActivationsUsed != nil && *k.ActivationsUsed >= *k.ActivationLimit
}

// ActivationKeys returns the keys whose fingerprint is fp, in any licence.
func (tx *Tx) ActivationKeys(fp string) ([]ActivationKey, error) {
	return activationKeys(tx.db, fp)
}

// ActivationKeys returns the keys whose fingerprint is fp, in any licence,
// as the reader pool sees them: a hint for the repeat activation, whose
// conditional UPDATE checks the key again.
func (s *Store) ActivationKeys(ctx context.Context, fp string) ([]ActivationKey, error) {
	return activationKeys(s.db.WithContext(ctx), fp)
}

func activationKeys(db *gorm.DB, fp string) ([]ActivationKey, error) {
	var rows []ActivationKey
	err := db.Table("product_keys AS k").
		Select("k.id, k.agreement_id, p.code AS product_code, k.status, a.ends AS agreement_ends, k.activation_limit, k.activations_used").
		Joins("JOIN products p ON p.id = k.product_id").
		Joins("JOIN agreements a ON a.id = k.agreement_id").
		Where("k.fingerprint = ?", fp).Order("k.id").Scan(&rows).Error
	return rows, mapError(err)
}

// RefusesNewInstallation reports whether key keyID, active with its
// agreement not over (today by the store's clock), has no activation
// left and no installation that shares any of components (short forms):
// then an activation with those components is a new installation that the
// locked path would refuse for the limit. It is one statement on the
// reader pool, so it reads one snapshot and takes no lock: a refusal is
// linearized at that snapshot (a release committed before the statement
// started is seen).
func (s *Store) RefusesNewInstallation(ctx context.Context, keyID int64, components []string) (bool, error) {
	db := s.db.WithContext(ctx)
	sharing := db.Table("installation_components AS c").Select("1").Where("c.key_id = k.id AND c.component IN ?", components)
	var ids []int64
	err := db.Table("product_keys AS k").Joins("JOIN agreements a ON a.id = k.agreement_id").
		Where("k.id = ? AND k.status = ? AND (a.ends IS NULL OR a.ends >= ?)", keyID, KeyActive, s.now().Format("2006-01-02")).
		Where("k.activation_limit IS NOT NULL AND COALESCE(k.activations_used, 0) >= k.activation_limit AND NOT EXISTS (?)", sharing).
		Pluck("k.id", &ids).Error
	return len(ids) == 1, mapError(err)
}

// RepeatActivation records that installation identity of key keyID, last
// seen unchanged (components) from network since since, activated again
// from that network, if the key is active and its agreement not over
// (today by tx.Now, as the locked path checks it); it reports whether it did. It is one conditional UPDATE that
// reads the key's status and its agreement's end in the same statement,
// without locking the key row: repeat activations of one key run in
// parallel. On PostgreSQL (READ COMMITTED) the statement is linearized
// at its snapshot: a block committed before the statement started makes
// it update nothing; a block committing while it runs comes after it. A
// released installation is gone, so it updates nothing either. A false
// answer is no refusal: the caller takes the locked path, which decides.
func (tx *Tx) RepeatActivation(keyID int64, identity, components, network string, since time.Time) (bool, error) {
	today := tx.Now().Format("2006-01-02")
	live := tx.db.Table("product_keys AS k").Select("1").Joins("JOIN agreements a ON a.id = k.agreement_id").
		Where("k.id = ? AND k.status = ? AND (a.ends IS NULL OR a.ends >= ?)", keyID, KeyActive, today)
	res := tx.db.Model(&Installation{}).
		Where("key_id = ? AND identity = ? AND components = ? AND network = ? AND last_seen >= ? AND EXISTS (?)",
			keyID, identity, components, network, since, live).
		Update("last_seen", tx.Now())
	return res.RowsAffected == 1, mapError(res.Error)
}

// LockKeyForActivation reads key keyID, locking its row on PostgreSQL so
// that activations of one key are serialised (SQLite transactions are
// already).
func (tx *Tx) LockKeyForActivation(keyID int64) (*ProductKey, error) {
	var pk ProductKey
	q := tx.db
	if tx.store.dialect == DialectPostgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Where("id = ?", keyID).Take(&pk).Error; err != nil {
		return nil, mapError(err)
	}
	return &pk, nil
}

// installationComponent is one component of an installation, by its
// short form, indexed by key.
type installationComponent struct {
	InstallationID int64
	KeyID          int64
	Component      string
}

// InstallationsSharing returns the installations of key keyID that share
// at least one of components (short forms).
func (tx *Tx) InstallationsSharing(keyID int64, components []string) ([]Installation, error) {
	var rows []Installation
	sub := tx.db.Table("installation_components").Select("installation_id").Where("key_id = ? AND component IN ?", keyID, components)
	return rows, mapError(tx.db.Where("key_id = ? AND id IN (?)", keyID, sub).Order("id").Find(&rows).Error)
}

// SetInstallationComponents replaces the component index of installation in.
func (tx *Tx) SetInstallationComponents(in *Installation, components []string) error {
	if err := tx.db.Table("installation_components").Where("installation_id = ?", in.ID).Delete(&installationComponent{}).Error; err != nil {
		return mapError(err)
	}
	rows := make([]installationComponent, 0, len(components))
	for _, c := range components {
		rows = append(rows, installationComponent{InstallationID: in.ID, KeyID: in.KeyID, Component: c})
	}
	if len(rows) == 0 {
		return nil
	}
	return mapError(tx.db.Table("installation_components").Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error)
}

// InstallationByIdentity returns installation identity of key keyID, or nil.
func (tx *Tx) InstallationByIdentity(keyID int64, identity string) (*Installation, error) {
	var rows []Installation
	if err := tx.db.Where("key_id = ? AND identity = ?", keyID, identity).Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, mapError(err)
	}
	return &rows[0], nil
}

// KeyHasNetwork reports whether an installation of key keyID was seen
// from network since since.
func (tx *Tx) KeyHasNetwork(keyID int64, network string, since time.Time) (bool, error) {
	var ids []int64
	err := tx.db.Model(&Installation{}).Where("key_id = ? AND network = ? AND last_seen >= ?", keyID, network, since).
		Limit(1).Pluck("id", &ids).Error
	return len(ids) > 0, mapError(err)
}

// UseActivation counts one more activation of key keyID if it has one
// left (or no limit); it reports whether it did. The check and the count
// are one conditional UPDATE, so concurrent activations cannot overshoot.
func (tx *Tx) UseActivation(keyID int64) (bool, error) {
	now := tx.Now()
	res := tx.db.Model(&ProductKey{}).
		Where("id = ? AND (activation_limit IS NULL OR COALESCE(activations_used, 0) < activation_limit)", keyID).
		Updates(map[string]any{
			"activations_used":  gorm.Expr("COALESCE(activations_used, 0) + 1"),
			"activations_as_of": now, "updated_at": now,
		})
	if res.Error != nil {
		return false, mapError(res.Error)
	}
	return res.RowsAffected == 1, nil
}

// CreateInstallation stores in and sets its id.
func (tx *Tx) CreateInstallation(in *Installation) error {
	return mapError(tx.db.Create(in).Error)
}

// TouchInstallation records that installation id activated again, with
// components from network.
func (tx *Tx) TouchInstallation(id int64, components, network string) error {
	return mapError(tx.db.Model(&Installation{}).Where("id = ?", id).Updates(map[string]any{
		"components": components, "network": network, "last_seen": tx.Now(),
	}).Error)
}

// ReleaseInstallation deletes installation id of key keyID and gives its
// activation back; it returns the released installation, or nil when
// there was none.
func (tx *Tx) ReleaseInstallation(keyID, id int64) (*Installation, error) {
	var rows []Installation
	if err := tx.db.Where("id = ? AND key_id = ?", id, keyID).Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, mapError(err)
	}
	if err := tx.db.Table("installation_components").Where("installation_id = ?", id).Delete(&installationComponent{}).Error; err != nil {
		return nil, mapError(err)
	}
	res := tx.db.Where("id = ? AND key_id = ?", id, keyID).Delete(&Installation{})
	if res.Error != nil || res.RowsAffected == 0 {
		return nil, mapError(res.Error)
	}
	in := rows[0]
	now := tx.Now()
	err := tx.db.Model(&ProductKey{}).Where("id = ? AND activations_used > 0", keyID).Updates(map[string]any{
		"activations_used": gorm.Expr("activations_used - 1"), "activations_as_of": now, "updated_at": now,
	}).Error
	return &in, mapError(err)
}

// InstallationsOf returns the installations that use key keyID, oldest first.
func (s *Store) InstallationsOf(ctx context.Context, keyID int64) ([]Installation, error) {
	var rows []Installation
	return rows, mapError(s.db.WithContext(ctx).Where("key_id = ?", keyID).Order("id").Find(&rows).Error)
}

// ActivationSigningKeys returns every activation signing key, oldest
// first; the last is the current one.
func (s *Store) ActivationSigningKeys(ctx context.Context) ([]ActivationSigningKey, error) {
	var rows []ActivationSigningKey
	return rows, mapError(s.db.WithContext(ctx).Order("id").Find(&rows).Error)
}

// CurrentActivationSigningKeyID returns the id (kid) of the current
// activation signing key, "" when there is none: one indexed row, cheap
// enough to ask every second.
func (s *Store) CurrentActivationSigningKeyID(ctx context.Context) (string, error) {
	var kids []string
	err := s.db.WithContext(ctx).Model(&ActivationSigningKey{}).Order("id DESC").Limit(1).Pluck("kid", &kids).Error
	if err != nil || len(kids) == 0 {
		return "", mapError(err)
	}
	return kids[0], nil
}

// ActivationSigningKeyByID returns the activation signing key kid.
func (s *Store) ActivationSigningKeyByID(ctx context.Context, kid string) (*ActivationSigningKey, error) {
	var k ActivationSigningKey
	if err := s.db.WithContext(ctx).Where("kid = ?", kid).Take(&k).Error; err != nil {
		return nil, mapError(err)
	}
	return &k, nil
}

// LockActivationSigningKeys serialises, until tx ends, the transactions
// that make signing keys, so that two processes starting at once make one
// first key and rotations get their ids in commit order. SQLite write
// transactions are serialised already.
func (tx *Tx) LockActivationSigningKeys() error {
	if tx.store.dialect != DialectPostgres {
		return nil
	}
	return tx.advisoryLock("activation-signing-keys", 0)
}

// CurrentActivationSigningKey returns the current activation signing key
// as tx sees it, or nil when there is none.
func (tx *Tx) CurrentActivationSigningKey() (*ActivationSigningKey, error) {
	var rows []ActivationSigningKey
	if err := tx.db.Order("id DESC").Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, mapError(err)
	}
	return &rows[0], nil
}

// CreateActivationSigningKey stores k, making it the current signing key.
// Call LockActivationSigningKeys first.
func (tx *Tx) CreateActivationSigningKey(k *ActivationSigningKey) error {
	return mapError(tx.db.Create(k).Error)
}

// LeakFlag marks a key activated from more networks, within a window,
// than its organisation plausibly has. Evidence lists the networks seen.
type LeakFlag struct {
	ID            int64     `json:"id"`
	KeyID         int64     `json:"key_id"`
	Networks      int64     `json:"networks"`
	Installations int64     `json:"installations"`
	Evidence      string    `json:"evidence"`
	FlaggedAt     time.Time `json:"flagged_at"`
}

// TableName names the table of LeakFlag.
func (LeakFlag) TableName() string { return "activation_leak_flags" }

// ActivationSpread returns the distinct networks, and the number of
// installations, of key keyID seen since since.
func (tx *Tx) ActivationSpread(keyID int64, since time.Time) (networks []string, installations int64, err error) {
	q := tx.db.Model(&Installation{}).Where("key_id = ? AND last_seen >= ?", keyID, since)
	if err := q.Count(&installations).Error; err != nil {
		return nil, 0, mapError(err)
	}
	err = tx.db.Model(&Installation{}).Where("key_id = ? AND last_seen >= ?", keyID, since).
		Distinct("network").Order("network").Pluck("network", &networks).Error
	return networks, installations, mapError(err)
}

// FlagLeak stores f unless key f.KeyID is flagged already; it reports
// whether it stored it.
func (tx *Tx) FlagLeak(f *LeakFlag) (bool, error) {
	res := tx.db.Clauses(clause.OnConflict{DoNothing: true}).Create(f)
	return res.RowsAffected == 1, mapError(res.Error)
}

// LeakFlags returns the flagged keys, newest first.
func (s *Store) LeakFlags(ctx context.Context) ([]LeakFlag, error) {
	var rows []LeakFlag
	return rows, mapError(s.db.WithContext(ctx).Order("flagged_at DESC, id DESC").Find(&rows).Error)
}

// OperatorIDs returns the users who hold the operator permission.
func (s *Store) OperatorIDs(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&Grant{}).Where("permission = ? AND agreement_id IS NULL", PermOperator).
		Distinct("user_id").Order("user_id").Pluck("user_id", &ids).Error
	return ids, mapError(err)
}
