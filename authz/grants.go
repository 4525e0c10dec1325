package authz

import (
	"context"
	"errors"
	"log/slog"

	"github.com/openlsc/openlsc/models"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Errors of the guards, with messages fit for the person who tried.
var (
	ErrLastAdministrator = models.Errorf(models.CodeConflict,
		"This is the last administrator of the licence; appoint another administrator first.")
	ErrContactGrant = models.Errorf(models.CodeForbidden,
		"This permission comes from the agreement's contact data and changes only when that data changes.")
	ErrInheritedGrant = models.Errorf(models.CodeForbidden,
		"This administrator permission is inherited from the master agreement (MBSA); it can be changed only there.")
	ErrNotAllowed = models.Errorf(models.CodeForbidden, "You are not allowed to do this.")
)

// Grant gives user the permission perm on licence (nil for the global
// operator role) from source, in tx, with its audit event. A user actor
// must administer the licence; an operator may appoint the first
// administrator of a licence that has none; contact grants come from the
// system only. Granting what the user already holds from that source does
// nothing.
func (a *Authorizer) Grant(tx *models.Tx, actor models.Actor, user int64, licence *int64, perm models.Permission, source models.GrantSource) error {
	if err := validGrant(licence, perm, source); err != nil {
		return err
	}
	if err := a.mayGrant(tx.DB(), actor, licence, perm, source); err != nil {
		return err
	}
	g := models.Grant{UserID: user, AgreementID: licence, Permission: perm, Source: source, GrantedBy: actor.UserID, CreatedAt: tx.Now()}
	res := tx.DB().Clauses(clause.OnConflict{DoNothing: true}).Create(&g)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return nil
	}
	if err := tx.AppendAudit(actor, AuditGrant, licence, grantDetails(user, perm, source)); err != nil {
		return err
	}
	return a.afterCommit(tx, user)
}

// Revoke takes from user the permission perm on licence that comes from
// source. Administrators of the licence may revoke direct grants, and users
// may drop their own; contact grants change only with the agreement data
// (the system actor); inherited administration cannot be revoked here. A
// user actor cannot remove the licence's last administrator.
func (a *Authorizer) Revoke(tx *models.Tx, actor models.Actor, user int64, licence *int64, perm models.Permission, source models.GrantSource) error {
	if err := validGrant(licence, perm, source); err != nil {
		return err
	}
	db := tx.DB()
	byUser := actor.UserID != nil
	switch {
	case source == models.SourceContact && byUser:
		return ErrContactGrant
	case byUser && licence == nil && !a.IsOperator(*actor.UserID):
		return ErrNotAllowed
	case byUser && licence != nil && *actor.UserID != user && !a.Can(*actor.UserID, *licence, ActManage):
		return ErrNotAllowed
	}
	q := db.Where("user_id = ? AND permission = ? AND source = ?", user, perm, source)
	if licence == nil {
		q = q.Where("agreement_id IS NULL")
	} else {
		q = q.Where("agreement_id = ?", *licence)
	}
	var g models.Grant
	if err := q.Take(&g).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			if licence != nil && perm == models.PermAdministrator && a.inheritsAdministration(db, user, *licence) {
				return ErrInheritedGrant
			}
			return models.Errorf(models.CodeNotFound, "The user does not hold this permission.")
		}
		return err
	}
	if byUser && licence != nil && perm == models.PermAdministrator {
		n, err := a.administratorsWithout(db, *licence, g.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrLastAdministrator
		}
	}
	if err := db.Delete(&models.Grant{}, g.ID).Error; err != nil {
		return err
	}
	if err := tx.AppendAudit(actor, AuditRevoke, licence, grantDetails(user, perm, source)); err != nil {
		return err
	}
	return a.afterCommit(tx, user)
}

// SetInheritance records whether user, an administrator of the MBSA, also
// administers every agreement under it (including ones added later). Only
// the user decides for themself. Grants of their own on those agreements
// are kept either way.
func (a *Authorizer) SetInheritance(tx *models.Tx, actor models.Actor, user, mbsa int64, inherit bool) error {
	if actor.UserID != nil && *actor.UserID != user {
		return ErrNotAllowed
	}
	db := tx.DB()
	var ag models.Agreement
	if err := db.Select("id", "program").Take(&ag, mbsa).Error; err != nil {
		return err
	}
	if ag.Program != models.ProgramMBSA {
		return models.Invalid("Inheritance is chosen on a master agreement (MBSA).")
	}
	var n int64
	err := db.Model(&models.Grant{}).Where("user_id = ? AND agreement_id = ? AND permission = ?", user, mbsa, models.PermAdministrator).Count(&n).Error
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotAllowed
	}
	choice := models.InheritanceChoice{UserID: user, MBSAID: mbsa, Inherit: inherit, ChosenAt: tx.Now()}
	err = db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "mbsa_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"inherit", "chosen_at"}),
	}).Create(&choice).Error
	if err != nil {
		return err
	}
	if err := tx.AppendAudit(actor, AuditInheritance, &mbsa, map[string]any{"user_id": user, "inherit": inherit}); err != nil {
		return err
	}
	return a.afterCommit(tx, user)
}

// Inheritance returns user's choice for the MBSA, or nil when they have not chosen.
func (a *Authorizer) Inheritance(ctx context.Context, user, mbsa int64) (*bool, error) {
	var c models.InheritanceChoice
	err := a.store.DB().WithContext(ctx).Where("user_id = ? AND mbsa_id = ?", user, mbsa).Limit(1).Find(&c).Error
	if err != nil || c.UserID == 0 {
		return nil, err
	}
	return &c.Inherit, nil
}

// UserGrant is one permission a user holds on a licence, with its source.
type UserGrant struct {
	UserID     int64
	Permission models.Permission
	Source     models.GrantSource
	// ViaMBSA is the MBSA an inherited grant comes from.
	ViaMBSA *int64
}

// Users lists who holds what on licence, with the source of each grant:
// stored grants and administration inherited from the parent MBSA.
func (a *Authorizer) Users(ctx context.Context, licence int64) ([]UserGrant, error) {
	db := a.store.DB().WithContext(ctx)
	var out []UserGrant
	err := db.Model(&models.Grant{}).Select("user_id, permission, source").
		Where("agreement_id = ?", licence).Order("user_id, permission, source").Scan(&out).Error
	if err != nil {
		return nil, err
	}
	var parent models.Agreement
	if err := db.Select("id", "parent_id").Take(&parent, licence).Error; err != nil {
		return nil, err
	}
	if parent.ParentID != nil {
		var inheritors []int64
		if err := inheritorsOf(db, *parent.ParentID).Pluck("ic.user_id", &inheritors).Error; err != nil {
			return nil, err
		}
		for _, u := range inheritors {
			out = append(out, UserGrant{UserID: u, Permission: models.PermAdministrator, Source: models.SourceInherited, ViaMBSA: parent.ParentID})
		}
	}
	return out, nil
}

// inheritorsOf selects the users who administer mbsa and chose to inherit.
func inheritorsOf(db *gorm.DB, mbsa int64) *gorm.DB {
	return db.Table("inheritance_choices AS ic").
		Where("ic.mbsa_id = ? AND ic.inherit = ?", mbsa, true).
		Where("EXISTS (SELECT 1 FROM grants g WHERE g.user_id = ic.user_id AND g.agreement_id = ic.mbsa_id AND g.permission = ?)", models.PermAdministrator)
}

// inheritsAdministration reports whether user administers licence through
// an inheriting MBSA administration.
func (a *Authorizer) inheritsAdministration(db *gorm.DB, user, licence int64) bool {
	var n int64
	db.Table("agreements AS ag").
		Joins("JOIN inheritance_choices ic ON ic.mbsa_id = ag.parent_id AND ic.user_id = ? AND ic.inherit = ?", user, true).
		Where("ag.id = ?", licence).Count(&n)
	return n > 0
}

// administratorsWithout counts the users who would still administer licence
// if the grant with id except were gone: other stored grants and inheriting
// MBSA administrators.
func (a *Authorizer) administratorsWithout(db *gorm.DB, licence, except int64) (int64, error) {
	var users []int64
	err := db.Model(&models.Grant{}).Where("agreement_id = ? AND permission = ? AND id <> ?", licence, models.PermAdministrator, except).
		Distinct().Pluck("user_id", &users).Error
	if err != nil {
		return 0, err
	}
	var ag models.Agreement
	if err := db.Select("id", "parent_id").Take(&ag, licence).Error; err != nil {
		return 0, err
	}
	if ag.ParentID != nil {
		var inheritors []int64
		if err := inheritorsOf(db, *ag.ParentID).Pluck("ic.user_id", &inheritors).Error; err != nil {
			return 0, err
		}
		users = append(users, inheritors...)
	}
	return int64(len(users)), nil
}

// mayGrant checks that actor may grant perm on licence from source.
func (a *Authorizer) mayGrant(db *gorm.DB, actor models.Actor, licence *int64, perm models.Permission, source models.GrantSource) error {
	if actor.UserID == nil {
		return nil // the system: imports, contact matching, start-up configuration
	}
	me := *actor.UserID
	switch {
	case source == models.SourceContact:
		return ErrContactGrant
	case licence == nil:
		if a.IsOperator(me) {
			return nil
		}
		return ErrNotAllowed
	case a.Can(me, *licence, ActManage):
		return nil
	case a.IsOperator(me) && perm == models.PermAdministrator:
		n, err := a.administratorsWithout(db, *licence, 0)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // appointing the first administrator
		}
	}
	return ErrNotAllowed
}

func validGrant(licence *int64, perm models.Permission, source models.GrantSource) error {
	switch {
	case source != models.SourceDirect && source != models.SourceContact:
		return models.Invalid("Choose where the permission comes from: direct or contact.")
	case perm == models.PermOperator && licence != nil:
		return models.Invalid("The operator role is global, not per licence.")
	case perm != models.PermOperator && (licence == nil || !perm.Valid()):
		return models.Invalid("Choose a permission (administrator, license_viewer, download_manager or key_reader) on a licence.")
	}
	return nil
}

func grantDetails(user int64, perm models.Permission, source models.GrantSource) map[string]any {
	return map[string]any{"user_id": user, "permission": perm, "source": source}
}

// afterCommit announces the change to other instances (delivered at
// commit) and brings the user's links in memory up to date once tx commits.
func (a *Authorizer) afterCommit(tx *models.Tx, user int64) error {
	if err := publish(tx.DB(), a.store.Dialect(), Change{Origin: a.origin, Users: []int64{user}}); err != nil {
		return err
	}
	tx.OnCommit(func() {
		if err := a.syncUsers(a.store.DB(), []int64{user}); err != nil {
			a.logger.Error("authz: apply a committed change; reloading", slog.Any("error", err))
			if err := a.Reload(context.Background()); err != nil {
				a.logger.Error("authz: reload", slog.Any("error", err))
			}
		}
	})
	return nil
}

// AgreementsChanged brings the parent links of agreements up to date, after
// an import added agreements or moved them between MBSAs.
func (a *Authorizer) AgreementsChanged(ctx context.Context, agreements []int64) error {
	db := a.store.DB().WithContext(ctx)
	if err := a.syncParents(db, agreements); err != nil {
		return err
	}
	return publish(db, a.store.Dialect(), Change{Origin: a.origin, Agreements: agreements})
}
