package models

import (
	"context"
	"database/sql"
	"errors"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// authzLockKey is the PostgreSQL advisory lock that serialises
// authorization changes (see LockAuthz). The import holds 7710001.
const authzLockKey = 7710002

// LockAuthz serialises authorization changes until tx ends: rules such as
// "a licence keeps an administrator" are checked and changed under it, and
// change-journal entries get their ids in commit order. Call it before any
// read that decides an authorization change. On SQLite every write
// transaction already holds the database's write lock from BEGIN.
func (tx *Tx) LockAuthz() error {
	if tx.store.dialect != DialectPostgres {
		return nil
	}
	return tx.db.Exec("SELECT pg_advisory_xact_lock(?)", authzLockKey).Error
}

// InsertGrant stores g unless the user holds that permission from that
// source already; it reports whether a row was added (and g.ID set).
func (tx *Tx) InsertGrant(g *Grant) (bool, error) {
	res := tx.db.Clauses(clause.OnConflict{DoNothing: true}).Create(g)
	return res.RowsAffected > 0, res.Error
}

// GrantOf returns the stored grant of perm on licence (nil: the global
// role) to user from source, or nil when there is none.
func (tx *Tx) GrantOf(user int64, licence *int64, perm Permission, source GrantSource) (*Grant, error) {
	q := tx.db.Where("user_id = ? AND permission = ? AND source = ?", user, perm, source)
	if licence == nil {
		q = q.Where("agreement_id IS NULL")
	} else {
		q = q.Where("agreement_id = ?", *licence)
	}
	var g Grant
	err := q.Take(&g).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// DeleteGrant deletes the grant with the given id.
func (tx *Tx) DeleteGrant(id int64) error {
	return tx.db.Delete(&Grant{}, id).Error
}

// IsOperator reports whether user holds the global operator role.
func (tx *Tx) IsOperator(user int64) (bool, error) {
	var n int64
	err := tx.db.Model(&Grant{}).Where("user_id = ? AND agreement_id IS NULL AND permission = ?", user, PermOperator).Count(&n).Error
	return n > 0, err
}

// Administers reports whether user administers licence: through a stored
// grant (from any source) or inherited from the parent MBSA.
func (tx *Tx) Administers(user, licence int64) (bool, error) {
	var n int64
	err := tx.db.Model(&Grant{}).Where("user_id = ? AND agreement_id = ? AND permission = ?", user, licence, PermAdministrator).Count(&n).Error
	if err != nil || n > 0 {
		return n > 0, err
	}
	return tx.InheritsAdministration(user, licence)
}

// InheritsAdministration reports whether user administers licence through
// an inheriting administration of its parent MBSA.
func (tx *Tx) InheritsAdministration(user, licence int64) (bool, error) {
	var n int64
	err := tx.db.Table("agreements AS ag").
		Joins("JOIN inheritance_choices ic ON ic.mbsa_id = ag.parent_id AND ic.user_id = ? AND ic.inherit = ?", user, true).
		Where("ag.id = ?", licence).
		Where("EXISTS (SELECT 1 FROM grants g WHERE g.user_id = ic.user_id AND g.agreement_id = ic.mbsa_id AND g.permission = ?)", PermAdministrator).
		Count(&n).Error
	return n > 0, err
}

// AdministratorsOf returns the users who would still administer licence if
// the grant with id except were gone (0: none is): other stored
// administrator grants and inheriting administrators of the parent MBSA. A
// user may be listed twice.
func (tx *Tx) AdministratorsOf(licence, except int64) ([]int64, error) {
	var users []int64
	err := tx.db.Model(&Grant{}).Where("agreement_id = ? AND permission = ? AND id <> ?", licence, PermAdministrator, except).
		Distinct().Pluck("user_id", &users).Error
	if err != nil {
		return nil, err
	}
	parent, err := parentOf(tx.db, licence)
	if err != nil || parent == nil {
		return users, err
	}
	var inheritors []int64
	if err := inheritorsOf(tx.db, *parent).Pluck("ic.user_id", &inheritors).Error; err != nil {
		return nil, err
	}
	return append(users, inheritors...), nil
}

// AgreementProgram returns the program of the agreement, or a not-found
// Error.
func (tx *Tx) AgreementProgram(id int64) (Program, error) {
	var ag Agreement
	if err := tx.db.Select("id", "program").Take(&ag, id).Error; err != nil {
		return "", mapError(err)
	}
	return ag.Program, nil
}

// SaveInheritanceChoice stores c, replacing the user's earlier choice for
// the MBSA.
func (tx *Tx) SaveInheritanceChoice(c *InheritanceChoice) error {
	return tx.db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "mbsa_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"inherit", "chosen_at"}),
	}).Create(c).Error
}

// InheritanceChoiceOf returns user's choice for the MBSA, or nil when they
// have not chosen.
func (s *Store) InheritanceChoiceOf(ctx context.Context, user, mbsa int64) (*bool, error) {
	var c InheritanceChoice
	err := s.db.WithContext(ctx).Where("user_id = ? AND mbsa_id = ?", user, mbsa).Limit(1).Find(&c).Error
	if err != nil || c.UserID == 0 {
		return nil, mapError(err)
	}
	return &c.Inherit, nil
}

// LicenceGrant is one stored grant on a licence, as listed to its administrators.
type LicenceGrant struct {
	UserID     int64
	Permission Permission
	Source     GrantSource
}

// GrantsOn returns the stored grants on licence, by user, permission and source.
func (s *Store) GrantsOn(ctx context.Context, licence int64) ([]LicenceGrant, error) {
	var out []LicenceGrant
	err := s.db.WithContext(ctx).Model(&Grant{}).Select("user_id, permission, source").
		Where("agreement_id = ?", licence).Order("user_id, permission, source").Scan(&out).Error
	return out, mapError(err)
}

// ParentOf returns the MBSA the agreement hangs under, or nil; an unknown
// agreement is a not-found Error.
func (s *Store) ParentOf(ctx context.Context, agreement int64) (*int64, error) {
	p, err := parentOf(s.db.WithContext(ctx), agreement)
	return p, mapError(err)
}

func parentOf(db *gorm.DB, agreement int64) (*int64, error) {
	var ag Agreement
	if err := db.Select("id", "parent_id").Take(&ag, agreement).Error; err != nil {
		return nil, err
	}
	return ag.ParentID, nil
}

// InheritorsOf returns the users who administer the MBSA and chose to
// inherit its administration.
func (s *Store) InheritorsOf(ctx context.Context, mbsa int64) ([]int64, error) {
	var out []int64
	err := inheritorsOf(s.db.WithContext(ctx), mbsa).Order("ic.user_id").Pluck("ic.user_id", &out).Error
	return out, mapError(err)
}

// inheritorsOf selects the users who administer mbsa and chose to inherit.
func inheritorsOf(db *gorm.DB, mbsa int64) *gorm.DB {
	return db.Table("inheritance_choices AS ic").
		Where("ic.mbsa_id = ? AND ic.inherit = ?", mbsa, true).
		Where("EXISTS (SELECT 1 FROM grants g WHERE g.user_id = ic.user_id AND g.agreement_id = ic.mbsa_id AND g.permission = ?)", PermAdministrator)
}

// CountGrants returns the number of stored grants.
func (s *Store) CountGrants(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Grant{}).Count(&n).Error
	return n, mapError(err)
}

// AgreementParent is an agreement and the MBSA it hangs under (nil: none).
type AgreementParent struct {
	ID       int64
	ParentID *int64
}

// ParentsOf returns the agreements among ids with their parents.
func (s *Store) ParentsOf(ctx context.Context, ids []int64) ([]AgreementParent, error) {
	var out []AgreementParent
	err := s.db.WithContext(ctx).Model(&Agreement{}).Select("id, parent_id").Where("id IN ?", ids).Scan(&out).Error
	return out, mapError(err)
}

// LinkVisitor receives the authorization facts ScanAuthzLinks reads.
type LinkVisitor struct {
	// Grant is a stored grant; licence is 0 for the global operator role.
	Grant func(user, licence int64, perm Permission)
	// Parent is an agreement hanging under an MBSA.
	Parent func(child, mbsa int64)
	// Inherit is a user who administers the MBSA and chose to inherit.
	Inherit func(user, mbsa int64)
}

// ScanAuthzLinks reads every stored grant, every agreement's parent and
// every effective inheritance choice and passes each to v, row by row (the
// policy has about a million of them). With users, only those users'
// grants and choices are read, and no parents; with nil, everything. A
// grant held from two sources is passed twice.
func (s *Store) ScanAuthzLinks(ctx context.Context, users []int64, v LinkVisitor) error {
	db := s.db.WithContext(ctx)
	grants := db.Table("grants").Select("user_id, agreement_id, permission")
	if users != nil {
		grants = grants.Where("user_id IN ?", users)
	}
	err := scanRows(grants, func(scan func(...any) error) error {
		var (
			user int64
			lic  sql.NullInt64
			perm string
		)
		if err := scan(&user, &lic, &perm); err != nil {
			return err
		}
		v.Grant(user, lic.Int64, Permission(perm))
		return nil
	})
	if err != nil {
		return err
	}
	if users == nil {
		parents := db.Table("agreements").Select("id, parent_id").Where("parent_id IS NOT NULL")
		err := scanRows(parents, func(scan func(...any) error) error {
			var child, parent int64
			if err := scan(&child, &parent); err != nil {
				return err
			}
			v.Parent(child, parent)
			return nil
		})
		if err != nil {
			return err
		}
	}
	choices := db.Table("inheritance_choices AS ic").Select("ic.user_id, ic.mbsa_id").
		Where("ic.inherit = ?", true).
		Where("EXISTS (SELECT 1 FROM grants g WHERE g.user_id = ic.user_id AND g.agreement_id = ic.mbsa_id AND g.permission = ?)", PermAdministrator)
	if users != nil {
		choices = choices.Where("ic.user_id IN ?", users)
	}
	return scanRows(choices, func(scan func(...any) error) error {
		var user, mbsa int64
		if err := scan(&user, &mbsa); err != nil {
			return err
		}
		v.Inherit(user, mbsa)
		return nil
	})
}

// scanRows runs q and calls row for each result row.
func scanRows(q *gorm.DB, row func(scan func(...any) error) error) error {
	rows, err := q.Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
