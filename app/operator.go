package app

import (
	"context"
	"errors"
	"strings"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"gorm.io/gorm"
)

// Operators holds the use cases of the service center's own staff.
type Operators struct {
	store    *models.Store
	authz    *authz.Authorizer
	accounts *Accounts
	opts     RequestOptions
}

// NewOperators returns the operator use cases.
func NewOperators(store *models.Store, az *authz.Authorizer, accounts *Accounts, opts RequestOptions) *Operators {
	return &Operators{store: store, authz: az, accounts: accounts, opts: opts}
}

// ErrOperatorsOnly refuses everyone but operators.
var ErrOperatorsOnly = models.Errorf(models.CodeForbidden, "This is for the service center's operators.")

func (o *Operators) check(user int64) error {
	if !o.authz.IsOperator(user) {
		return ErrOperatorsOnly
	}
	return nil
}

// Unadministered is a licence without administrator and the failed access
// requests that wait on it.
type Unadministered struct {
	Licence        string         `json:"licence"`
	Program        models.Program `json:"program"`
	Organization   string         `json:"organization"`
	FailedRequests []FailedView   `json:"failed_requests"`
}

// FailedView is a failed access request as operators see it, with its reason.
type FailedView struct {
	ID        int64  `json:"id"`
	Requester string `json:"requester"`
	Reason    string `json:"reason"`
	At        string `json:"at"`
}

// Unadministered lists licences that nobody administers (no grant, no
// inheriting MBSA administrator), with failed requests for them, and the
// failed requests for unknown licences under the number "".
func (o *Operators) Unadministered(ctx context.Context, operator int64, limit int) ([]Unadministered, error) {
	if err := o.check(operator); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	db := o.store.DB().WithContext(ctx)
	var ags []struct {
		ID      int64
		Number  string
		Program models.Program
		Org     string
	}
	err := db.Table("agreements AS ag").Select("ag.id, ag.number, ag.program, o.number AS org").
		Joins("JOIN organizations o ON o.id = ag.organization_id").
		Where("NOT EXISTS (SELECT 1 FROM grants g WHERE g.agreement_id = ag.id AND g.permission = ?)", models.PermAdministrator).
		Where(`NOT EXISTS (SELECT 1 FROM inheritance_choices ic JOIN grants g ON g.user_id = ic.user_id AND g.agreement_id = ic.mbsa_id AND g.permission = ?
		        WHERE ic.mbsa_id = ag.parent_id AND ic.inherit = ?)`, models.PermAdministrator, true).
		Order("ag.number").Limit(limit).Scan(&ags).Error
	if err != nil {
		return nil, err
	}
	out := make([]Unadministered, 0, len(ags))
	for _, a := range ags {
		failed, err := o.failed(ctx, db.Where("agreement_id = ?", a.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, Unadministered{Licence: a.Number, Program: a.Program, Organization: a.Org, FailedRequests: failed})
	}
	return out, nil
}

func (o *Operators) failed(ctx context.Context, q *gorm.DB) ([]FailedView, error) {
	var reqs []models.AccessRequest
	if err := q.Where("status = ?", models.RequestFailed).Order("id DESC").Limit(50).Find(&reqs).Error; err != nil {
		return nil, err
	}
	out := make([]FailedView, 0, len(reqs))
	for _, r := range reqs {
		who := ""
		if u, err := o.store.User(ctx, r.RequesterID); err == nil && u.WorkEmail != nil {
			who = *u.WorkEmail
		}
		out = append(out, FailedView{ID: r.ID, Requester: who, Reason: r.FailureReason, At: r.CreatedAt.UTC().Format("2006-01-02 15:04 MST")})
	}
	return out, nil
}

// Appoint makes the person with email the first administrator of a
// licence that has none: at once if the email is confirmed, else by
// invitation. Licences with an administrator are refused.
func (o *Operators) Appoint(ctx context.Context, operator int64, licence, email string) error {
	if err := o.check(operator); err != nil {
		return err
	}
	id, err := o.store.AgreementID(ctx, licence)
	if err != nil {
		return models.Errorf(models.CodeNotFound, "No licence %s.", licence)
	}
	grants, err := o.authz.Users(ctx, id)
	if err != nil {
		return err
	}
	for _, g := range grants {
		if g.Permission == models.PermAdministrator {
			return models.Errorf(models.CodeConflict, "Licence %s has an administrator already; its administrators add others.", licence)
		}
	}
	admin := NewAdmin(o.store, o.authz, AdminOptions{BaseURL: o.opts.BaseURL, Kick: o.opts.Kick})
	err = admin.addUser(ctx, operator, id, AddUserInput{Email: email, Permissions: []models.Permission{models.PermAdministrator}})
	if errors.Is(err, authz.ErrNotAllowed) {
		return models.Errorf(models.CodeConflict, "Licence %s has an administrator already; its administrators add others.", licence)
	}
	return err
}

// SearchResult is what an operator search finds.
type SearchResult struct {
	Licences []LicenceView `json:"licences"`
	Users    []UserView    `json:"users"`
}

// UserView is a user as operators see them.
type UserView struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	WorkEmail string `json:"work_email,omitempty"`
	Verified  bool   `json:"verified"`
}

// Search finds licences by number and users by name or work email.
func (o *Operators) Search(ctx context.Context, operator int64, q string) (*SearchResult, error) {
	if err := o.check(operator); err != nil {
		return nil, err
	}
	q = strings.TrimSpace(q)
	if len(q) < 2 {
		return nil, models.Invalid("Search for at least two characters.", models.FieldError{Field: "q", Message: "too short"})
	}
	like := "%" + strings.NewReplacer("%", `\%`, "_", `\_`).Replace(strings.ToLower(q)) + "%"
	db := o.store.DB().WithContext(ctx)
	res := &SearchResult{Licences: []LicenceView{}, Users: []UserView{}}
	var ags []models.Agreement
	if err := db.Where("LOWER(number) LIKE ? OR LOWER(name) LIKE ?", like, like).Order("number").Limit(50).Find(&ags).Error; err != nil {
		return nil, err
	}
	for _, a := range ags {
		res.Licences = append(res.Licences, LicenceView{Number: a.Number, Program: a.Program, Name: a.Name, Starts: a.Starts.String(), Ends: a.Ends.String()})
	}
	var users []models.User
	if err := db.Where("LOWER(display_name) LIKE ? OR LOWER(work_email) LIKE ?", like, like).Order("id").Limit(50).Find(&users).Error; err != nil {
		return nil, err
	}
	for _, u := range users {
		v := UserView{ID: u.ID, Name: u.DisplayName, Verified: u.WorkEmailVerifiedAt != nil}
		if u.WorkEmail != nil {
			v.WorkEmail = *u.WorkEmail
		}
		res.Users = append(res.Users, v)
	}
	return res, nil
}

// Import runs an import document for an operator: dryRun validates and
// reports what would change; otherwise it applies, contact grants
// included, in one transaction.
func (o *Operators) Import(ctx context.Context, operator int64, doc *models.ImportDocument, dryRun bool, source string) (*models.ImportResult, error) {
	if err := o.check(operator); err != nil {
		return nil, err
	}
	actor := userActor(operator)
	actor.SourceAddr = source
	res, err := o.store.Import(ctx, doc, models.ImportOptions{Actor: actor, DryRun: dryRun,
		AfterApply: func(tx *models.Tx, res *models.ImportResult) error {
			return o.accounts.ApplyContactChanges(tx, res.ContactChanges)
		}})
	if err != nil || dryRun {
		return res, err
	}
	return res, o.authz.AgreementsChanged(ctx, res.ChangedAgreements)
}
