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
	"gorm.io/gorm"
)

// Audit kinds of delegated administration.
const (
	AuditInvited         = "invitation.created"
	AuditInvitationSent  = "invitation.resent"
	AuditInvitationTaken = "invitation.accepted"
	invitationLifetime   = 30 * 24 * time.Hour
)

// Admin holds the use cases of licence administrators: who has access to
// their licences, adding colleagues and partners, changing and removing
// their permissions.
type Admin struct {
	store *models.Store
	authz *authz.Authorizer
	opts  RequestOptions // BaseURL and Kick
}

// NewAdmin returns the administration use cases.
func NewAdmin(store *models.Store, az *authz.Authorizer, opts RequestOptions) *Admin {
	return &Admin{store: store, authz: az, opts: opts}
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

// Users lists who has access to licence (the administrator's), with the
// source of each grant, and the pending invitations.
func (a *Admin) Users(ctx context.Context, licence int64) ([]LicenceUser, error) {
	grants, err := a.authz.Users(ctx, licence)
	if err != nil {
		return nil, err
	}
	domains, err := a.orgDomains(ctx, licence)
	if err != nil {
		return nil, err
	}
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
	var users []models.User
	if len(order) > 0 {
		if err := a.store.DB().WithContext(ctx).Where("id IN ?", order).Find(&users).Error; err != nil {
			return nil, err
		}
	}
	for _, u := range users {
		lu := byUser[u.ID]
		lu.Name = u.DisplayName
		if u.WorkEmail != nil {
			lu.Email = *u.WorkEmail
			lu.External = external(lu.Email, domains)
		}
	}
	out := make([]LicenceUser, 0, len(order))
	for _, id := range order {
		out = append(out, *byUser[id])
	}
	var invs []models.Invitation
	err = a.store.DB().WithContext(ctx).Where("agreement_id = ? AND status = ? AND expires_at > ?", licence, "pending", a.store.Now()).
		Order("id").Find(&invs).Error
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

// orgDomains returns the email domains of the contacts of every agreement
// of the licence's organisation: what counts as "inside".
func (a *Admin) orgDomains(ctx context.Context, licence int64) (map[string]bool, error) {
	var emails []string
	err := a.store.DB().WithContext(ctx).Table("agreement_contacts AS c").
		Joins("JOIN agreements ag ON ag.id = c.agreement_id").
		Where("ag.organization_id = (SELECT organization_id FROM agreements WHERE id = ?)", licence).
		Distinct().Pluck("c.email", &emails).Error
	out := map[string]bool{}
	for _, e := range emails {
		out[e[strings.LastIndexByte(e, '@')+1:]] = true
	}
	return out, err
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
	email, err := ValidateEmail(in.Email)
	if err != nil {
		return err
	}
	if len(in.Permissions) == 0 || slices.ContainsFunc(in.Permissions, func(p models.Permission) bool { return !p.Valid() }) {
		return models.Invalid("Pick one or more permissions.", models.FieldError{Field: "permissions", Message: "administrator, license_viewer, download_manager or key_reader"})
	}
	if utf8.RuneCountInString(in.FirstName) > 100 || utf8.RuneCountInString(in.LastName) > 100 {
		return models.Invalid("Names are too long.", models.FieldError{Field: "first_name", Message: "at most 100 characters"})
	}
	licences := []int64{licence}
	for _, n := range in.Licences {
		id, err := a.store.AgreementID(ctx, n)
		// A licence the administrator does not administer is as unknown as
		// one that does not exist.
		if err != nil || !a.authz.Can(admin, id, authz.ActManage) {
			return models.Invalid("You can copy permissions only to licences you administer.", models.FieldError{Field: "also_licences", Message: n + ": not a licence you administer"})
		}
		if !slices.Contains(licences, id) {
			licences = append(licences, id)
		}
	}
	return a.store.InTx(ctx, func(tx *models.Tx) error {
		var target models.User
		err := tx.DB().Where("work_email = ? AND work_email_verified_at IS NOT NULL", email).Take(&target).Error
		found := err == nil
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		actor := userActor(admin)
		for _, lic := range licences {
			var ag models.Agreement
			if err := tx.DB().Select("id", "number").Take(&ag, lic).Error; err != nil {
				return err
			}
			if found {
				for _, p := range in.Permissions {
					if err := a.authz.Grant(tx, actor, target.ID, &lic, p, models.SourceDirect); err != nil {
						return err
					}
				}
				if err := a.mail(tx, email, target.Language, mailer.TemplatePermissionsChanged, ag.Number, in.Permissions, "/"); err != nil {
					return err
				}
				continue
			}
			now := tx.Now()
			inv := models.Invitation{AgreementID: lic, Email: email, FirstName: in.FirstName, LastName: in.LastName,
				Permissions: joinPerms(in.Permissions), InvitedBy: &admin, Status: "pending",
				ExpiresAt: now.Add(invitationLifetime), CreatedAt: now, UpdatedAt: now}
			if err := tx.DB().Create(&inv).Error; err != nil {
				return err
			}
			lang, err := inviterLanguage(tx, admin)
			if err != nil {
				return err
			}
			if err := a.mail(tx, email, lang, mailer.TemplateInvitation, ag.Number, in.Permissions, "/signin"); err != nil {
				return err
			}
			if err := tx.AppendAudit(actor, AuditInvited, &lic, map[string]any{"invitation_id": inv.ID, "email": email, "permissions": in.Permissions}); err != nil {
				return err
			}
		}
		return nil
	})
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
	if slices.ContainsFunc(perms, func(p models.Permission) bool { return !p.Valid() }) {
		return models.Invalid("Unknown permission.", models.FieldError{Field: "permissions", Message: "administrator, license_viewer, download_manager or key_reader"})
	}
	return a.store.InTx(ctx, func(tx *models.Tx) error {
		var have []models.Permission
		err := tx.DB().Model(&models.Grant{}).Where("user_id = ? AND agreement_id = ? AND source = ?", user, licence, models.SourceDirect).
			Pluck("permission", &have).Error
		if err != nil {
			return err
		}
		var any bool
		if err := tx.DB().Model(&models.Grant{}).Select("count(*) > 0").Where("user_id = ? AND agreement_id = ?", user, licence).Scan(&any).Error; err != nil {
			return err
		}
		if !any {
			return models.Errorf(models.CodeNotFound, "This person has no access to the licence.")
		}
		if len(have) == 0 && len(perms) == 0 {
			return models.Errorf(models.CodeForbidden, "This person's permissions come from the agreement's contact data or from MBSA inheritance; they cannot be removed here.")
		}
		actor := userActor(admin)
		// Grant first, so that making someone else administrator and
		// stepping down in one change passes the last-administrator guard.
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
		var ag models.Agreement
		var u models.User
		if err := tx.DB().Select("number").Take(&ag, licence).Error; err != nil {
			return err
		}
		if err := tx.DB().Take(&u, user).Error; err != nil {
			return err
		}
		if u.WorkEmail != nil && u.WorkEmailVerifiedAt != nil {
			return a.mail(tx, *u.WorkEmail, u.Language, mailer.TemplatePermissionsChanged, ag.Number, perms, "/")
		}
		return nil
	})
}

// ResendInvitation mails a pending invitation again and extends it.
func (a *Admin) ResendInvitation(ctx context.Context, admin, licence, id int64) error {
	return a.store.InTx(ctx, func(tx *models.Tx) error {
		var inv models.Invitation
		err := tx.DB().Where("id = ? AND agreement_id = ? AND status = ?", id, licence, "pending").Take(&inv).Error
		if err != nil {
			return models.Errorf(models.CodeNotFound, "No such pending invitation.")
		}
		now := tx.Now()
		if err := tx.DB().Model(&inv).Updates(map[string]any{"expires_at": now.Add(invitationLifetime), "updated_at": now}).Error; err != nil {
			return err
		}
		var ag models.Agreement
		if err := tx.DB().Select("number").Take(&ag, licence).Error; err != nil {
			return err
		}
		lang, err := inviterLanguage(tx, admin)
		if err != nil {
			return err
		}
		if err := a.mail(tx, inv.Email, lang, mailer.TemplateInvitation, ag.Number, splitPerms(inv.Permissions), "/signin"); err != nil {
			return err
		}
		return tx.AppendAudit(userActor(admin), AuditInvitationSent, &licence, map[string]any{"invitation_id": id})
	})
}

// acceptInvitations grants the pending invitations for email to user,
// in tx; called when user confirms that work email.
func acceptInvitations(tx *models.Tx, az *authz.Authorizer, user int64, email string) error {
	var invs []models.Invitation
	if err := tx.DB().Where("email = ? AND status = ? AND expires_at > ?", email, "pending", tx.Now()).Find(&invs).Error; err != nil {
		return err
	}
	for _, inv := range invs {
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
		now := tx.Now()
		if err := tx.DB().Model(&inv).Updates(map[string]any{"status": "accepted", "accepted_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := tx.AppendAudit(userActor(user), AuditInvitationTaken, &lic, map[string]any{"invitation_id": inv.ID}); err != nil {
			return err
		}
	}
	return nil
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
