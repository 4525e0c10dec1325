package app

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/openlsc/openlsc/authz"
	mailer "github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
)

// Audit kinds of this file.
const (
	AuditWorkEmailRegistered = "work_email.registered"
	AuditWorkEmailVerified   = "work_email.verified"
	AuditWorkEmailTakenOver  = "work_email.taken_over"
	AuditDormant             = "user.dormant"
)

// Errors of work email verification, each saying what to do.
var (
	ErrLinkInvalid = models.New(models.CodeNotFound, "err.workemail.link_invalid",
		"This confirmation link is not valid. Register your work email again to get a new one.")
	ErrLinkUsed = models.New(models.CodeConflict, "err.workemail.link_used",
		"This confirmation link has been used already. If your work email is not confirmed yet, register it again.")
	ErrLinkExpired = models.New(models.CodeInvalid, "err.workemail.link_expired",
		"This confirmation link has expired. Register your work email again to get a new one.")
	ErrLinkOtherIdentity = models.New(models.CodeForbidden, "err.workemail.other_identity",
		"This confirmation link was requested while signed in with another account. Sign in with that account and open the link again.")
	ErrEmailTaken = models.New(models.CodeConflict, "err.workemail.taken",
		"This work email is confirmed for another sign-in. Confirm again with “take over” to move it to this sign-in; the other sign-in then loses it.")
)

// WorkEmailOptions configure work email verification.
type WorkEmailOptions struct {
	BaseURL   string        // links in mails start with it
	VerifyTTL time.Duration // how long a confirmation link works (48 h)
	Operators []string      // work emails that hold the operator role once verified
	Kick      func()        // wakes the mail worker after a commit; may be nil
}

// NewAccounts returns the account use cases.
func NewAccounts(store *models.Store, az *authz.Authorizer, opts WorkEmailOptions) *Accounts {
	if opts.VerifyTTL == 0 {
		opts.VerifyTTL = 48 * time.Hour
	}
	ops := map[string]bool{}
	for _, e := range opts.Operators {
		ops[models.NormalizeEmail(e)] = true
	}
	return &Accounts{store: store, authz: az, opts: opts, operators: ops}
}

// ValidateEmail normalises an email address and reports what is wrong with it.
func ValidateEmail(raw string) (string, error) {
	email := models.NormalizeEmail(raw)
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || len(email) > 254 || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return "", models.InvalidKey("err.workemail.invalid", "Enter an email address such as name@company.example.",
			models.FieldError{Field: "email", Key: "err.field.email", Message: "not an email address"})
	}
	return email, nil
}

// RegisterWorkEmail records that the user (signed in with identity) claims
// email as their work email and mails a single-use confirmation link. The
// current work email, if any, stays until the new one is confirmed.
func (a *Accounts) RegisterWorkEmail(ctx context.Context, user, identity int64, raw string) error {
	email, err := ValidateEmail(raw)
	if err != nil {
		return err
	}
	u, err := a.store.User(ctx, user)
	if err != nil {
		return err
	}
	token := randomToken(32)
	err = a.store.InTx(ctx, func(tx *models.Tx) error {
		now := tx.Now()
		v := models.EmailVerification{
			UserID: user, IdentityID: identity, Email: email, TokenHash: hashToken(token),
			ExpiresAt: now.Add(a.opts.VerifyTTL), CreatedAt: now,
		}
		if err := tx.CreateEmailVerification(&v); err != nil {
			return err
		}
		msg := mailer.Message{To: email, Language: u.Language, Template: "verify_email", Data: map[string]any{
			"Name": u.DisplayName, "Link": a.opts.BaseURL + "/verify-email?token=" + token, "Expires": v.ExpiresAt,
		}}
		if err := mailer.Enqueue(tx, msg); err != nil {
			return err
		}
		a.kickAfter(tx)
		return tx.AppendAudit(userActor(user), AuditWorkEmailRegistered, nil, map[string]any{"email": email})
	})
	forgetUser(ctx)
	return err
}

func (a *Accounts) kickAfter(tx *models.Tx) {
	if a.opts.Kick != nil {
		tx.OnCommit(a.opts.Kick)
	}
}

func userActor(user int64) models.Actor {
	return models.Actor{UserID: &user, Label: fmt.Sprintf("user:%d", user)}
}

// VerifyWorkEmail confirms the work email of the link whose token was
// given, for the user signed in with identity (the one that asked for the
// link). takeOver moves an email that another user has confirmed to this
// one. On success every agreement naming the email as a contact grants its
// permissions, and grants of a previous work email are withdrawn.
func (a *Accounts) VerifyWorkEmail(ctx context.Context, user, identity int64, token string, takeOver bool) (string, error) {
	var email string
	err := a.store.InTx(ctx, func(tx *models.Tx) error {
		v, err := a.usableLink(tx, user, identity, token)
		if err != nil {
			return err
		}
		email = v.Email
		// One confirmation of this email at a time: of two users confirming
		// it at once, the second finds it taken.
		if err := tx.LockWorkEmail(email); err != nil {
			return err
		}
		if err := a.takeFromOthers(tx, user, email, takeOver); err != nil {
			return err
		}
		used, err := tx.UseEmailVerification(v.ID)
		if err != nil {
			return err
		}
		if !used {
			return ErrLinkUsed
		}
		if err := tx.ConfirmWorkEmail(user, email); err != nil {
			return err
		}
		if err := a.syncContactGrants(tx, user, email, nil); err != nil {
			return err
		}
		if err := acceptInvitations(tx, a.authz, user, email); err != nil {
			return err
		}
		if a.operators[email] && !a.authz.IsOperator(user) {
			if err := a.authz.Grant(tx, system, user, nil, models.PermOperator, models.SourceDirect); err != nil {
				return err
			}
		}
		return tx.AppendAudit(userActor(user), AuditWorkEmailVerified, nil, map[string]any{"email": email})
	})
	forgetUser(ctx)
	return email, err
}

// usableLink returns the unused, unexpired confirmation link whose token
// was given, asked for by user signed in with identity; it stays locked
// until tx ends.
func (a *Accounts) usableLink(tx *models.Tx, user, identity int64, token string) (*models.EmailVerification, error) {
	v, err := tx.EmailVerificationForUpdate(hashToken(token))
	switch {
	case models.ErrorCode(err) == models.CodeNotFound:
		return nil, ErrLinkInvalid
	case err != nil:
		return nil, err
	case v.UsedAt != nil:
		return nil, ErrLinkUsed
	case tx.Now().After(v.ExpiresAt):
		return nil, ErrLinkExpired
	case v.UserID != user || v.IdentityID != identity:
		return nil, ErrLinkOtherIdentity
	}
	return v, nil
}

// takeFromOthers withdraws email from any other user who has it confirmed,
// when takeOver; without it, such a user makes the confirmation fail.
func (a *Accounts) takeFromOthers(tx *models.Tx, user int64, email string, takeOver bool) error {
	others, err := tx.VerifiedUsersWithEmail(email, user)
	if err != nil {
		return err
	}
	if len(others) > 0 && !takeOver {
		return ErrEmailTaken
	}
	for _, other := range others {
		if err := tx.UnconfirmWorkEmail(other.ID); err != nil {
			return err
		}
		if err := a.syncContactGrants(tx, other.ID, "", nil); err != nil {
			return err
		}
		if err := tx.AppendAudit(userActor(user), AuditWorkEmailTakenOver, nil, map[string]any{"email": email, "from_user_id": other.ID}); err != nil {
			return err
		}
	}
	return nil
}

// contactPermission is the permission a contact role grants.
func contactPermission(r models.ContactRole) models.Permission {
	if r == models.ContactNotices {
		return models.PermLicenseViewer
	}
	return models.PermAdministrator
}

// syncContactGrants makes user's contact-derived grants equal to what the
// agreement contacts naming email give ("" gives nothing), on the given
// agreements (nil: all of them), through authz and audited, in tx. It reads
// the grants under the authorization lock, so that what it changes is
// decided on what authz's own checks will see.
func (a *Accounts) syncContactGrants(tx *models.Tx, user int64, email string, agreements []int64) error {
	if err := tx.LockAuthz(); err != nil {
		return err
	}
	type pair struct {
		agreement int64
		perm      models.Permission
	}
	want := map[pair]bool{}
	if email != "" {
		contacts, err := tx.ContactsNaming(email, agreements)
		if err != nil {
			return err
		}
		for _, c := range contacts {
			want[pair{c.AgreementID, contactPermission(c.Role)}] = true
		}
	}
	have, err := tx.ContactGrantsOf(user, agreements)
	if err != nil {
		return err
	}
	for _, g := range have {
		p := pair{*g.AgreementID, g.Permission}
		if want[p] {
			delete(want, p)
			continue
		}
		if err := a.authz.Revoke(tx, system, user, g.AgreementID, g.Permission, models.SourceContact); err != nil {
			return err
		}
	}
	for p := range want {
		lic := p.agreement
		if err := a.authz.Grant(tx, system, user, &lic, p.perm, models.SourceContact); err != nil {
			return err
		}
	}
	return nil
}

// ApplyContactChanges re-matches verified users after an import added or
// removed agreement contacts, in the import's transaction, so that nobody
// has to confirm their email again.
func (a *Accounts) ApplyContactChanges(tx *models.Tx, changes []models.ContactChange) error {
	if len(changes) == 0 {
		return nil
	}
	if err := tx.LockAuthz(); err != nil {
		return err
	}
	byEmail := map[string][]int64{}
	for _, c := range changes {
		byEmail[c.Email] = append(byEmail[c.Email], c.AgreementID)
	}
	for email, agreements := range byEmail {
		users, err := tx.VerifiedUsersWithEmail(email, 0)
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := a.syncContactGrants(tx, u.ID, email, agreements); err != nil {
				return err
			}
		}
	}
	return nil
}

// Active reports whether user may see licences: their work email is
// confirmed (and, after a long absence, confirmed again).
func (a *Accounts) Active(ctx context.Context, user int64) (bool, error) {
	if u := requestUser(ctx, user); u != nil {
		return u.WorkEmailVerifiedAt != nil, nil
	}
	u, err := a.store.User(ctx, user)
	if err != nil {
		return false, err
	}
	return u.WorkEmailVerifiedAt != nil, nil
}

// markDormantIfAway asks a user who has not signed in for longer than
// after to confirm their work email again; their grants stay and work again
// once they have.
func (a *Accounts) markDormantIfAway(ctx context.Context, user *models.User, previous *time.Time, after time.Duration) error {
	if previous == nil || after <= 0 || user.WorkEmailVerifiedAt == nil || a.store.Now().Sub(*previous) <= after {
		return nil
	}
	return a.store.InTx(ctx, func(tx *models.Tx) error {
		if err := tx.UnconfirmWorkEmail(user.ID); err != nil {
			return err
		}
		user.WorkEmailVerifiedAt = nil
		return tx.AppendAudit(system, AuditDormant, nil, map[string]any{"user_id": user.ID, "last_sign_in": previous})
	})
}
