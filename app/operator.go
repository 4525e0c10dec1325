package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// OperatorsOptions configure the operator use cases.
type OperatorsOptions struct {
	BaseURL string // makes the links in invitations
	Kick    func() // wakes the mail worker after a commit; may be nil
}

// Operators holds the use cases of the service center's own staff.
type Operators struct {
	store    *models.Store
	authz    *authz.Authorizer
	accounts *Accounts
	opts     OperatorsOptions
}

// NewOperators returns the operator use cases.
func NewOperators(store *models.Store, az *authz.Authorizer, accounts *Accounts, opts OperatorsOptions) *Operators {
	return &Operators{store: store, authz: az, accounts: accounts, opts: opts}
}

// ErrOperatorsOnly refuses everyone but operators.
var ErrOperatorsOnly = models.New(models.CodeForbidden, "err.operators_only", "This is for the service center's operators.")

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
	ags, err := o.store.UnadministeredLicences(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Unadministered, 0, len(ags))
	for _, a := range ags {
		failed, err := o.failed(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, Unadministered{Licence: a.Number, Program: a.Program, Organization: a.Org, FailedRequests: failed})
	}
	return out, nil
}

// failed returns the latest failed access requests for licence.
func (o *Operators) failed(ctx context.Context, licence int64) ([]FailedView, error) {
	reqs, err := o.store.FailedAccessRequestsOn(ctx, licence, 50)
	if err != nil {
		return nil, err
	}
	out := make([]FailedView, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, FailedView{ID: r.ID, Requester: r.RequesterEmail, Reason: r.FailureReason, At: r.CreatedAt.UTC().Format("2006-01-02 15:04 MST")})
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
		return models.New(models.CodeNotFound, "err.operator.no_licence", fmt.Sprintf("No licence %s.", licence)).With(models.Args{"Licence": licence})
	}
	grants, err := o.authz.Users(ctx, id)
	if err != nil {
		return err
	}
	for _, g := range grants {
		if g.Permission == models.PermAdministrator {
			return models.New(models.CodeConflict, "err.operator.has_admin", fmt.Sprintf("Licence %s has an administrator already; its administrators add others.", licence)).With(models.Args{"Licence": licence})
		}
	}
	admin := NewAdmin(o.store, o.authz, AdminOptions{BaseURL: o.opts.BaseURL, Kick: o.opts.Kick})
	err = admin.addUser(ctx, operator, id, AddUserInput{Email: email, Permissions: []models.Permission{models.PermAdministrator}})
	if errors.Is(err, authz.ErrNotAllowed) {
		return models.New(models.CodeConflict, "err.operator.has_admin", fmt.Sprintf("Licence %s has an administrator already; its administrators add others.", licence)).With(models.Args{"Licence": licence})
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
		return nil, models.InvalidKey("err.operator.search_short", "Search for at least two characters.", models.FieldError{Field: "q", Key: "err.field.too_short", Message: "too short"})
	}
	res := &SearchResult{Licences: []LicenceView{}, Users: []UserView{}}
	ags, err := o.store.LicencesMatching(ctx, q, 50)
	if err != nil {
		return nil, err
	}
	for _, a := range ags {
		res.Licences = append(res.Licences, LicenceView{Number: a.Number, Program: a.Program, Name: a.Name, Starts: a.Starts.String(), Ends: a.Ends.String()})
	}
	users, err := o.store.UsersMatching(ctx, q, 50)
	if err != nil {
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
