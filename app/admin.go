package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openlsc/openlsc/authz"
	mailer "github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
)

// Audit kinds of delegated administration.
const (
	AuditInvited         = "invitation.created"
	AuditInvitationSent  = "invitation.resent"
	AuditInvitationTaken = "invitation.accepted"
	invitationLifetime   = 30 * 24 * time.Hour
)

// AdminOptions configure the administration use cases.
type AdminOptions struct {
	BaseURL string // links in mails start with it
	Kick    func() // wakes the mail worker after a commit; may be nil
}

// adminAuthz is what administration needs of authorization.
type adminAuthz interface {
	Can(user, licence int64, action authz.Action) bool
	Users(ctx context.Context, licence int64) ([]authz.UserGrant, error)
	Grant(tx *models.Tx, actor models.Actor, user int64, licence *int64, perm models.Permission, source models.GrantSource) error
	Revoke(tx *models.Tx, actor models.Actor, user int64, licence *int64, perm models.Permission, source models.GrantSource) error
}

// Admin holds the use cases of licence administrators: who has access to
// their licences, adding colleagues and partners, changing and removing
// their permissions. Each checks that the actor administers the licence.
type Admin struct {
	store *models.Store
	authz adminAuthz
	opts  AdminOptions
}

// NewAdmin returns the administration use cases.
func NewAdmin(store *models.Store, az adminAuthz, opts AdminOptions) *Admin {
	return &Admin{store: store, authz: az, opts: opts}
}

// mayManage answers like an unknown licence unless admin administers
// licence, so that the answer tells nothing about licences of others.
func (a *Admin) mayManage(admin, licence int64) error {
	if !a.authz.Can(admin, licence, authz.ActManage) {
		return authz.ErrNoSuchLicence
	}
	return nil
}

// LicenceUser is a person with access to a licence, or invited to it.
type LicenceUser struct {
	UserID       int64       `json:"user_id,omitempty"`
	Name         string      `json:"name,omitempty"`
	Email        string      `json:"email"`
	External     bool        `json:"external"` // the email is outside the organisation's domains
	Grants       []GrantView `json:"grants,omitempty"`
	InvitationID int64       `json:"invitation_id,omitempty"`
	Invited      []string    `json:"invited_permissions,omitempty"`
	InviteExpiry *time.Time  `json:"invitation_expires_at,omitempty"`
}

// GrantView is one permission a person holds on a licence, and its source.
type GrantView struct {
	Permission models.Permission  `json:"permission"`
	Source     models.GrantSource `json:"source"`
	ViaMBSA    string             `json:"via_mbsa,omitempty"` // License ID of the MBSA an inherited grant comes from
}

// Users lists who has access to licence (one admin administers), with
// the source of each grant, and the pending invitations.
func (a *Admin) Users(ctx context.Context, admin, licence int64) ([]LicenceUser, error) {
	if err := a.mayManage(admin, licence); err != nil {
		return nil, err
	}
	grants, err := a.authz.Users(ctx, licence)
	if err != nil {
		return nil, err
	}
	domains, err := a.store.OrganizationDomains(ctx, licence)
	if err != nil {
		return nil, err
	}
	out, err := a.grantees(ctx, grants, domains)
	if err != nil {
		return nil, err
	}
	invs, err := a.store.PendingInvitationsOn(ctx, licence)
	if err != nil {
		return nil, err
	}
	for _, inv := range invs {
		exp := inv.ExpiresAt
		out = append(out, LicenceUser{Name: strings.TrimSpace(inv.FirstName + " " + inv.LastName), Email: inv.Email,
			External: external(inv.Email, domains), InvitationID: inv.ID, Invited: strings.Split(inv.Permissions, ","), InviteExpiry: &exp})
	}
	return out, nil
}

// grantees groups grants by person, in the order of grants, with names,
// emails and the MBSAs inherited grants come from.
func (a *Admin) grantees(ctx context.Context, grants []authz.UserGrant, domains map[string]bool) ([]LicenceUser, error) {
	var mbsaIDs []int64
	for _, g := range grants {
		if g.ViaMBSA != nil {
			mbsaIDs = append(mbsaIDs, *g.ViaMBSA)
		}
	}
	mbsas, err := a.store.AgreementsByID(ctx, mbsaIDs)
	if err != nil {
		return nil, err
	}
	byUser := map[int64]*LicenceUser{}
	var order []int64
	for _, g := range grants {
		lu := byUser[g.UserID]
		if lu == nil {
			lu = &LicenceUser{UserID: g.UserID}
			byUser[g.UserID] = lu
			order = append(order, g.UserID)
		}
		gv := GrantView{Permission: g.Permission, Source: g.Source}
		if g.ViaMBSA != nil {
			gv.ViaMBSA = mbsas[*g.ViaMBSA].Number
		}
		lu.Grants = append(lu.Grants, gv)
	}
	users, err := a.store.UserNames(ctx, order)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		lu := byUser[u.ID]
		lu.Name = u.DisplayName
		if u.WorkEmail != "" {
			lu.Email = u.WorkEmail
			lu.External = external(lu.Email, domains)
		}
	}
	out := make([]LicenceUser, 0, len(order))
	for _, id := range order {
		out = append(out, *byUser[id])
	}
	return out, nil
}

func external(email string, domains map[string]bool) bool {
	return len(domains) > 0 && !domains[email[strings.LastIndexByte(email, '@')+1:]]
}

// AddUserInput names the person to add and what they may do.
type AddUserInput struct {
	Email       string              `json:"email"`
	FirstName   string              `json:"first_name"`
	LastName    string              `json:"last_name"`
	Permissions []models.Permission `json:"permissions"`
	// Licences are more licences (numbers) the administrator administers
	// to give the same permissions on ("copy to other licences").
	Licences []string `json:"also_licences,omitempty"`
}

// AddUser gives the person with that work email the permissions on the
// licence (and the other licences listed): at once when someone has
// confirmed that work email, else by an invitation that takes effect when
// they confirm it. Either way they are mailed.
func (a *Admin) AddUser(ctx context.Context, admin, licence int64, in AddUserInput) error {
	if err := a.mayManage(admin, licence); err != nil {
		return err
	}
	return a.addUser(ctx, admin, licence, in)
}

// addUser is AddUser for an actor whose right authz.Grant checks at each
// grant: an operator appointing the first administrator.
func (a *Admin) addUser(ctx context.Context, admin, licence int64, in AddUserInput) error {
	email, err := ValidateEmail(in.Email)
	if err != nil {
		return err
	}
	if len(in.Permissions) == 0 || slices.ContainsFunc(in.Permissions, func(p models.Permission) bool { return !p.Valid() }) {
		return models.InvalidKey("err.admin.pick_permissions", "Pick one or more permissions.", models.FieldError{Field: "permissions", Key: "err.field.permission_names", Message: "administrator, license_viewer, download_manager or key_reader"})
	}
	if utf8.RuneCountInString(in.FirstName) > 100 || utf8.RuneCountInString(in.LastName) > 100 {
		return models.InvalidKey("err.admin.names_too_long", "Names are too long.", models.FieldError{Field: "first_name", Key: "err.field.too_long", Args: models.Args{"Max": 100}, Message: "at most 100 characters"})
	}
	licences := []int64{licence}
	for _, n := range in.Licences {
		id, err := a.store.AgreementID(ctx, n)
		// A licence the administrator does not administer is as unknown as
		// one that does not exist.
		if err != nil || !a.authz.Can(admin, id, authz.ActManage) {
			return models.InvalidKey("err.admin.copy_not_administered", "You can copy permissions only to licences you administer.", models.FieldError{Field: "also_licences", Key: "err.field.not_administered", Args: models.Args{"Licence": n}, Message: n + ": not a licence you administer"})
		}
		if !slices.Contains(licences, id) {
			licences = append(licences, id)
		}
	}
	return a.store.InTx(ctx, func(tx *models.Tx) error {
		// Confirming this email waits for the invitations made here, and
		// the other way round: no invitation is left behind unaccepted.
		if err := tx.LockWorkEmail(email); err != nil {
			return err
		}
		holders, err := tx.VerifiedUsersWithEmail(email, 0)
		if err != nil {
			return err
		}
		for _, lic := range licences {
			number, err := tx.AgreementNumber(lic)
			if err != nil {
				return err
			}
			if len(holders) > 0 {
				err = a.grantNow(tx, admin, &holders[0], lic, number, in.Permissions)
			} else {
				err = a.invite(tx, admin, lic, number, email, in)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// grantNow gives target, who has confirmed their work email, perms on
// licence and mails them.
func (a *Admin) grantNow(tx *models.Tx, admin int64, target *models.User, licence int64, number string, perms []models.Permission) error {
	for _, p := range perms {
		if err := a.authz.Grant(tx, userActor(admin), target.ID, &licence, p, models.SourceDirect); err != nil {
			return err
		}
	}
	return a.mail(tx, *target.WorkEmail, target.Language, mailer.TemplatePermissionsChanged, number, perms, "/")
}

// invite records an invitation of email to licence and mails it.
func (a *Admin) invite(tx *models.Tx, admin, licence int64, number, email string, in AddUserInput) error {
	now := tx.Now()
	inv := models.Invitation{AgreementID: licence, Email: email, FirstName: in.FirstName, LastName: in.LastName,
		Permissions: joinPerms(in.Permissions), InvitedBy: &admin, Status: models.InvitationPending,
		ExpiresAt: now.Add(invitationLifetime), CreatedAt: now, UpdatedAt: now}
	if err := tx.CreateInvitation(&inv); err != nil {
		return err
	}
	lang, err := inviterLanguage(tx, admin)
	if err != nil {
		return err
	}
	if err := a.mail(tx, email, lang, mailer.TemplateInvitation, number, in.Permissions, "/signin"); err != nil {
		return err
	}
	return tx.AppendAudit(userActor(admin), AuditInvited, &licence, map[string]any{"invitation_id": inv.ID, "email": email, "permissions": in.Permissions})
}

func (a *Admin) mail(tx *models.Tx, to, lang, template, licence string, perms []models.Permission, path string) error {
	err := mailer.Enqueue(tx, mailer.Message{To: to, Language: lang, Template: template, Data: map[string]any{
		"Licence": licence, "Permissions": permStrings(perms), "Link": a.opts.BaseURL + path,
	}})
	if err == nil && a.opts.Kick != nil {
		tx.OnCommit(a.opts.Kick)
	}
	return err
}

// SetPermissions makes user's direct permissions on licence exactly perms
// (an empty list removes them all). Contact-derived and inherited
// permissions stay; the last administrator cannot be removed.
func (a *Admin) SetPermissions(ctx context.Context, admin, licence, user int64, perms []models.Permission) error {
	if err := a.mayManage(admin, licence); err != nil {
		return err
	}
	if slices.ContainsFunc(perms, func(p models.Permission) bool { return !p.Valid() }) {
		return models.InvalidKey("err.admin.unknown_permission", "Unknown permission.", models.FieldError{Field: "permissions", Key: "err.field.permission_names", Message: "administrator, license_viewer, download_manager or key_reader"})
	}
	return a.store.InTx(ctx, func(tx *models.Tx) error {
		grants, err := tx.GrantsOn(user, licence)
		if err != nil {
			return err
		}
		if len(grants) == 0 {
			return models.New(models.CodeNotFound, "err.admin.no_access", "This person has no access to the licence.")
		}
		var have []models.Permission
		for _, g := range grants {
			if g.Source == models.SourceDirect {
				have = append(have, g.Permission)
			}
		}
		if len(have) == 0 && len(perms) == 0 {
			return models.New(models.CodeForbidden, "err.admin.fixed_permissions", "This person's permissions come from the agreement's contact data or from MBSA inheritance; they cannot be removed here.")
		}
		if err := a.replaceDirect(tx, admin, licence, user, have, perms); err != nil {
			return err
		}
		number, err := tx.AgreementNumber(licence)
		if err != nil {
			return err
		}
		u, err := tx.User(user)
		if err != nil {
			return err
		}
		if u.WorkEmail != nil && u.WorkEmailVerifiedAt != nil {
			return a.mail(tx, *u.WorkEmail, u.Language, mailer.TemplatePermissionsChanged, number, perms, "/")
		}
		return nil
	})
}

// replaceDirect makes user's direct permissions on licence perms instead
// of have.
func (a *Admin) replaceDirect(tx *models.Tx, admin, licence, user int64, have, perms []models.Permission) error {
	actor := userActor(admin)
	// Grant first, so that making someone else administrator and stepping
	// down in one change passes the last-administrator guard.
	for _, p := range perms {
		if !slices.Contains(have, p) {
			if err := a.authz.Grant(tx, actor, user, &licence, p, models.SourceDirect); err != nil {
				return err
			}
		}
	}
	for _, p := range have {
		if !slices.Contains(perms, p) {
			if err := a.authz.Revoke(tx, actor, user, &licence, p, models.SourceDirect); err != nil {
				return err
			}
		}
	}
	return nil
}

// ResendInvitation mails a pending invitation again and extends it.
func (a *Admin) ResendInvitation(ctx context.Context, admin, licence, id int64) error {
	if err := a.mayManage(admin, licence); err != nil {
		return err
	}
	return a.store.InTx(ctx, func(tx *models.Tx) error {
		inv, err := tx.PendingInvitation(id, licence)
		if err != nil {
			return models.New(models.CodeNotFound, "err.admin.no_invitation", "No such pending invitation.")
		}
		if err := tx.ExtendInvitation(inv.ID, tx.Now().Add(invitationLifetime)); err != nil {
			return err
		}
		number, err := tx.AgreementNumber(licence)
		if err != nil {
			return err
		}
		lang, err := inviterLanguage(tx, admin)
		if err != nil {
			return err
		}
		if err := a.mail(tx, inv.Email, lang, mailer.TemplateInvitation, number, splitPerms(inv.Permissions), "/signin"); err != nil {
			return err
		}
		return tx.AppendAudit(userActor(admin), AuditInvitationSent, &licence, map[string]any{"invitation_id": id})
	})
}

// acceptInvitations grants the pending invitations for email to user,
// in tx; called when user confirms that work email. Each invitation is
// accepted once: a second confirmation finds it accepted.
func acceptInvitations(tx *models.Tx, az grantor, user int64, email string) error {
	invs, err := tx.PendingInvitationsFor(email)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		accepted, err := tx.AcceptInvitation(inv.ID)
		if err != nil {
			return err
		}
		if !accepted {
			continue
		}
		actor := system
		if inv.InvitedBy != nil {
			actor = userActor(*inv.InvitedBy)
		}
		lic := inv.AgreementID
		for _, p := range splitPerms(inv.Permissions) {
			// The inviter may have lost the right meanwhile: then the
			// invitation no longer gives anything.
			if err := az.Grant(tx, actor, user, &lic, p, models.SourceDirect); err != nil && !errors.Is(err, authz.ErrNotAllowed) {
				return err
			}
		}
		if err := tx.AppendAudit(userActor(user), AuditInvitationTaken, &lic, map[string]any{"invitation_id": inv.ID}); err != nil {
			return err
		}
	}
	return nil
}

// grantor gives permissions.
type grantor interface {
	Grant(tx *models.Tx, actor models.Actor, user int64, licence *int64, perm models.Permission, source models.GrantSource) error
}

// FilterUsers keeps the people who hold perm (when set) from source (when
// set; "invited" selects pending invitations).
func FilterUsers(list []LicenceUser, perm models.Permission, source string) []LicenceUser {
	if perm == "" && source == "" {
		return list
	}
	out := []LicenceUser{}
	for _, lu := range list {
		if lu.InvitationID != 0 {
			if (source == "" || source == "invited") && (perm == "" || slices.Contains(lu.Invited, string(perm))) {
				out = append(out, lu)
			}
			continue
		}
		for _, g := range lu.Grants {
			if (perm == "" || g.Permission == perm) && (source == "" || string(g.Source) == source) {
				out = append(out, lu)
				break
			}
		}
	}
	return out
}
