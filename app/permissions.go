package app

import (
	"context"
	"slices"

	"github.com/openlsc/openlsc/models"
)

// PermissionView is one permission a user holds on a licence, and where
// it comes from.
type PermissionView struct {
	Licence    string             `json:"licence"`
	Program    models.Program     `json:"program"`
	Permission models.Permission  `json:"permission"`
	Source     models.GrantSource `json:"source"`
	ViaMBSA    string             `json:"via_mbsa,omitempty"` // for inherited administration
	Removable  bool               `json:"removable"`          // the user may drop it
}

// Permissions lists what user holds on every licence with its source:
// stored grants (direct, contact) and administration inherited from an
// MBSA. Nothing is listed before the work email is confirmed.
func (a *Accounts) Permissions(ctx context.Context, user int64) ([]PermissionView, error) {
	out := []PermissionView{}
	if ok, err := a.Active(ctx, user); err != nil || !ok {
		return out, err
	}
	grants, err := a.store.LicenceGrantsOf(ctx, user)
	if err != nil {
		return nil, err
	}
	held := a.authz.Licences(user)
	ids := make([]int64, 0, len(grants)+len(held))
	for _, g := range grants {
		ids = append(ids, *g.AgreementID)
	}
	for _, h := range held {
		ids = append(ids, h.AgreementID)
	}
	ags, err := a.store.AgreementsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		ag := ags[*g.AgreementID]
		out = append(out, PermissionView{Licence: ag.Number, Program: ag.Program, Permission: g.Permission, Source: g.Source,
			Removable: g.Source == models.SourceDirect})
	}
	for _, h := range held {
		ag := ags[h.AgreementID]
		if !h.Inherited || ag.ParentID == nil {
			continue
		}
		parent, err := a.store.AgreementsByID(ctx, []int64{*ag.ParentID})
		if err != nil {
			return nil, err
		}
		out = append(out, PermissionView{Licence: ag.Number, Program: ag.Program, Permission: models.PermAdministrator,
			Source: models.SourceInherited, ViaMBSA: parent[*ag.ParentID].Number})
	}
	slices.SortFunc(out, func(x, y PermissionView) int {
		if x.Licence != y.Licence {
			if x.Licence < y.Licence {
				return -1
			}
			return 1
		}
		return slices.Index(models.Permissions, x.Permission) - slices.Index(models.Permissions, y.Permission)
	})
	return out, nil
}

// errNoSuchPermission is the one answer when the user holds no such
// permission, whether or not the licence exists.
var errNoSuchPermission = models.New(models.CodeNotFound, "err.permission.not_held", "You hold no such permission.")

// DropPermission removes one of the user's own direct permissions on the
// licence numbered licence. Contact-derived and inherited permissions
// cannot be dropped, and the last administrator cannot leave.
func (a *Accounts) DropPermission(ctx context.Context, user int64, licence string, perm models.Permission) error {
	if !perm.Valid() {
		return models.InvalidKey("err.permission.choose", "Choose a permission: administrator, license_viewer, download_manager or key_reader.",
			models.FieldError{Field: "permission", Key: "err.field.not_a_permission", Message: "not a permission"})
	}
	id, err := a.store.AgreementID(ctx, licence)
	if err != nil {
		return errNoSuchPermission
	}
	err = a.store.InTx(ctx, func(tx *models.Tx) error {
		grants, err := tx.GrantsOn(user, id)
		if err != nil {
			return err
		}
		var sources []models.GrantSource
		for _, g := range grants {
			if g.Permission == perm {
				sources = append(sources, g.Source)
			}
		}
		if !slices.Contains(sources, models.SourceDirect) && slices.Contains(sources, models.SourceContact) {
			return models.New(models.CodeForbidden, "err.admin.contact_grant", "This permission comes from the agreement's contact data; it changes only when that data changes.")
		}
		return a.authz.Revoke(tx, userActor(user), user, &id, perm, models.SourceDirect)
	})
	if models.ErrorCode(err) == models.CodeNotFound {
		return errNoSuchPermission
	}
	return err
}

// InheritanceView is an MBSA the user administers and their choice about
// the agreements under it (nil: not asked yet).
type InheritanceView struct {
	MBSA    string `json:"mbsa"`
	Name    string `json:"name,omitempty"`
	Inherit *bool  `json:"inherit"`
}

// Inheritance lists the MBSAs user administers with their choice; the ones
// without a choice are those the sign-in inheritance page asks about.
func (a *Accounts) Inheritance(ctx context.Context, user int64) ([]InheritanceView, error) {
	out := []InheritanceView{}
	if ok, err := a.Active(ctx, user); err != nil || !ok {
		return out, err
	}
	mbsas, err := a.store.AdministeredMBSAs(ctx, user)
	if err != nil {
		return nil, err
	}
	for _, m := range mbsas {
		choice, err := a.authz.Inheritance(ctx, user, m.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, InheritanceView{MBSA: m.Number, Name: m.Name, Inherit: choice})
	}
	return out, nil
}

// errNoSuchMBSA is the one answer to an inheritance choice on anything but
// an MBSA the user administers, whether or not it exists.
var errNoSuchMBSA = models.New(models.CodeNotFound, "err.admin.no_such_mbsa", "You administer no such master agreement.")

// SetInheritance records the user's choice for the MBSA numbered mbsa.
// Every licence the user does not administer as an MBSA gets the same
// answer as one that does not exist.
func (a *Accounts) SetInheritance(ctx context.Context, user int64, mbsa string, inherit bool) error {
	if ok, err := a.Active(ctx, user); err != nil || !ok {
		return ErrVerifyFirst
	}
	mbsas, err := a.store.AdministeredMBSAs(ctx, user)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(mbsas, func(m models.Agreement) bool { return m.Number == mbsa })
	if i < 0 {
		return errNoSuchMBSA
	}
	err = a.store.InTx(ctx, func(tx *models.Tx) error {
		return a.authz.SetInheritance(tx, userActor(user), user, mbsas[i].ID, inherit)
	})
	if code := models.ErrorCode(err); code == models.CodeForbidden || code == models.CodeNotFound || code == models.CodeInvalid {
		return errNoSuchMBSA // the administration ended meanwhile
	}
	return err
}

// InheritancePending reports whether user administers an MBSA and has not
// answered the inheritance question for it.
func (a *Accounts) InheritancePending(ctx context.Context, user int64) bool {
	list, err := a.Inheritance(ctx, user)
	if err != nil {
		return false
	}
	for _, m := range list {
		if m.Inherit == nil {
			return true
		}
	}
	return false
}
