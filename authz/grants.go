package authz

import (
	"context"
	"log/slog"

	"github.com/openlsc/openlsc/models"
)

// Errors of the guards, with messages fit for the person who tried.
var (
	ErrLastAdministrator = models.New(models.CodeConflict, "err.admin.last_administrator",
		"This is the last administrator of the licence; appoint another administrator first.")
	ErrContactGrant = models.New(models.CodeForbidden, "err.admin.contact_grant",
		"This permission comes from the agreement's contact data and changes only when that data changes.")
	ErrInheritedGrant = models.New(models.CodeForbidden, "err.admin.inherited_grant",
		"This administrator permission is inherited from the master agreement (MBSA); it can be changed only there.")
	ErrNotAllowed = models.New(models.CodeForbidden, "err.not_allowed", "You are not allowed to do this.")
)

// Grant gives user the permission perm on licence (nil for the global
// operator role) from source, in tx, with its audit event. A user actor
// must administer the licence; an operator may appoint the first
// administrator of a licence that has none; contact grants come from the
// system only. Granting what the user already holds from that source does
// nothing. The checks read the database under tx.LockAuthz, so they hold
// at commit even when other instances change grants at the same moment.
func (a *Authorizer) Grant(tx *models.Tx, actor models.Actor, user int64, licence *int64, perm models.Permission, source models.GrantSource) error {
	if err := validGrant(licence, perm, source); err != nil {
		return err
	}
	if err := tx.LockAuthz(); err != nil {
		return err
	}
	if err := mayGrant(tx, actor, licence, perm, source); err != nil {
		return err
	}
	g := models.Grant{UserID: user, AgreementID: licence, Permission: perm, Source: source, GrantedBy: actor.UserID, CreatedAt: tx.Now()}
	added, err := tx.InsertGrant(&g)
	if err != nil || !added {
		return err
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
// user actor cannot remove the licence's last administrator: of two
// administrators removing each other at the same moment, the second gets
// ErrLastAdministrator.
func (a *Authorizer) Revoke(tx *models.Tx, actor models.Actor, user int64, licence *int64, perm models.Permission, source models.GrantSource) error {
	if err := validGrant(licence, perm, source); err != nil {
		return err
	}
	byUser := actor.UserID != nil
	if source == models.SourceContact && byUser {
		return ErrContactGrant
	}
	// Everything below is decided on what the database holds now.
	if err := tx.LockAuthz(); err != nil {
		return err
	}
	g, err := tx.GrantOf(user, licence, perm, source)
	if err != nil {
		return err
	}
	if byUser && licence != nil && perm == models.PermAdministrator && g != nil {
		others, err := tx.AdministratorsOf(*licence, g.ID)
		if err != nil {
			return err
		}
		if len(others) == 0 {
			return ErrLastAdministrator
		}
	}
	if byUser {
		if err := mayRevoke(tx, *actor.UserID, user, licence); err != nil {
			return err
		}
	}
	if g == nil {
		if licence != nil && perm == models.PermAdministrator {
			inherits, err := tx.InheritsAdministration(user, *licence)
			if err != nil {
				return err
			}
			if inherits {
				return ErrInheritedGrant
			}
		}
		return models.New(models.CodeNotFound, "err.admin.no_such_grant", "The user does not hold this permission.")
	}
	if err := tx.DeleteGrant(g.ID); err != nil {
		return err
	}
	if err := tx.AppendAudit(actor, AuditRevoke, licence, grantDetails(user, perm, source)); err != nil {
		return err
	}
	return a.afterCommit(tx, user)
}

// mayRevoke checks that the user me may revoke user's permission on
// licence: their own, or as the licence's administrator (the operator for
// the global role).
func mayRevoke(tx *models.Tx, me, user int64, licence *int64) error {
	var ok bool
	var err error
	switch {
	case licence == nil:
		ok, err = tx.IsOperator(me)
	case me == user:
		ok = true
	default:
		ok, err = tx.Administers(me, *licence)
	}
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotAllowed
	}
	return nil
}

// SetInheritance records whether user, an administrator of the MBSA, also
// administers every agreement under it (including ones added later). Only
// the user decides for themself. Grants of their own on those agreements
// are kept either way.
func (a *Authorizer) SetInheritance(tx *models.Tx, actor models.Actor, user, mbsa int64, inherit bool) error {
	if actor.UserID != nil && *actor.UserID != user {
		return ErrNotAllowed
	}
	if err := tx.LockAuthz(); err != nil {
		return err
	}
	program, err := tx.AgreementProgram(mbsa)
	if err != nil {
		return err
	}
	if program != models.ProgramMBSA {
		return models.InvalidKey("err.admin.inherit_mbsa_only", "Inheritance is chosen on a master agreement (MBSA).")
	}
	// An MBSA has no parent: administering it means holding the grant.
	admin, err := tx.Administers(user, mbsa)
	if err != nil {
		return err
	}
	if !admin {
		return ErrNotAllowed
	}
	choice := models.InheritanceChoice{UserID: user, MBSAID: mbsa, Inherit: inherit, ChosenAt: tx.Now()}
	if err := tx.SaveInheritanceChoice(&choice); err != nil {
		return err
	}
	if err := tx.AppendAudit(actor, AuditInheritance, &mbsa, map[string]any{"user_id": user, "inherit": inherit}); err != nil {
		return err
	}
	return a.afterCommit(tx, user)
}

// Inheritance returns user's choice for the MBSA, or nil when they have not chosen.
func (a *Authorizer) Inheritance(ctx context.Context, user, mbsa int64) (*bool, error) {
	return a.store.InheritanceChoiceOf(ctx, user, mbsa)
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
	grants, err := a.store.GrantsOn(ctx, licence)
	if err != nil {
		return nil, err
	}
	parent, err := a.store.ParentOf(ctx, licence)
	if err != nil {
		return nil, err
	}
	var out []UserGrant
	for _, g := range grants {
		out = append(out, UserGrant{UserID: g.UserID, Permission: g.Permission, Source: g.Source})
	}
	if parent != nil {
		inheritors, err := a.store.InheritorsOf(ctx, *parent)
		if err != nil {
			return nil, err
		}
		for _, u := range inheritors {
			out = append(out, UserGrant{UserID: u, Permission: models.PermAdministrator, Source: models.SourceInherited, ViaMBSA: parent})
		}
	}
	return out, nil
}

// mayGrant checks, in tx, that actor may grant perm on licence from source.
func mayGrant(tx *models.Tx, actor models.Actor, licence *int64, perm models.Permission, source models.GrantSource) error {
	if actor.UserID == nil {
		return nil // the system: imports, contact matching, start-up configuration
	}
	me := *actor.UserID
	if source == models.SourceContact {
		return ErrContactGrant
	}
	operator, err := tx.IsOperator(me)
	if err != nil {
		return err
	}
	if licence == nil {
		if operator {
			return nil
		}
		return ErrNotAllowed
	}
	admin, err := tx.Administers(me, *licence)
	if err != nil || admin {
		return err
	}
	if operator && perm == models.PermAdministrator {
		others, err := tx.AdministratorsOf(*licence, 0)
		if err != nil {
			return err
		}
		if len(others) == 0 {
			return nil // appointing the first administrator
		}
	}
	return ErrNotAllowed
}

func validGrant(licence *int64, perm models.Permission, source models.GrantSource) error {
	switch {
	case source != models.SourceDirect && source != models.SourceContact:
		return models.InvalidKey("err.grant.source", "Choose where the permission comes from: direct or contact.")
	case perm == models.PermOperator && licence != nil:
		return models.InvalidKey("err.grant.operator_global", "The operator role is global, not per licence.")
	case perm != models.PermOperator && (licence == nil || !perm.Valid()):
		return models.InvalidKey("err.grant.permission", "Choose a permission (administrator, license_viewer, download_manager or key_reader) on a licence.")
	}
	return nil
}

func grantDetails(user int64, perm models.Permission, source models.GrantSource) map[string]any {
	return map[string]any{"user_id": user, "permission": perm, "source": source}
}

// afterCommit journals the change (other instances read it once tx
// commits) and brings the user's links in memory up to date once tx commits.
func (a *Authorizer) afterCommit(tx *models.Tx, user int64) error {
	if err := tx.JournalAuthzChange(models.AuthzChange{Origin: a.origin, Users: []int64{user}}); err != nil {
		return err
	}
	tx.OnCommit(func() {
		ctx := context.Background()
		if err := a.syncUsers(ctx, []int64{user}); err != nil {
			a.logger.Error("authz: apply a committed change; reloading", slog.Any("error", err))
			if err := a.Reload(ctx); err != nil {
				a.logger.Error("authz: reload", slog.Any("error", err))
			}
		}
	})
	return nil
}

// AgreementsChanged brings this instance's parent links of agreements up to
// date at once, after an import added agreements or moved them between
// MBSAs. The import journals the change in its transaction, so other
// instances pick it up by themselves.
func (a *Authorizer) AgreementsChanged(ctx context.Context, agreements []int64) error {
	if len(agreements) == 0 {
		return nil
	}
	return a.syncParents(ctx, agreements)
}
