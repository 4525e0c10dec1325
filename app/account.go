package app

import (
	"context"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// Accounts holds the use cases of signed-in users: who they are, their
// work email, and the access their agreement contacts give them.
type Accounts struct {
	store     *models.Store
	authz     *authz.Authorizer
	opts      WorkEmailOptions
	operators map[string]bool
}

// MeView is what GET /api/v1/me returns: the signed-in user, their work
// email and the licences they can see.
type MeView struct {
	ID                int64         `json:"id"`
	DisplayName       string        `json:"display_name"`
	Language          string        `json:"language"`
	WorkEmail         string        `json:"work_email,omitempty"`
	WorkEmailVerified bool          `json:"work_email_verified"`
	PendingWorkEmail  string        `json:"pending_work_email,omitempty"`
	Operator          bool          `json:"operator"`
	Licences          []LicenceView `json:"licences"`
}

// LicenceView is one licence a user can see, with their permissions.
type LicenceView struct {
	Number      string              `json:"number"`
	Program     models.Program      `json:"program"`
	Name        string              `json:"name,omitempty"`
	Starts      string              `json:"starts,omitempty"`
	Ends        string              `json:"ends,omitempty"`
	Permissions []models.Permission `json:"permissions"`
	Inherited   bool                `json:"inherited"`
}

// Me describes user.
func (a *Accounts) Me(ctx context.Context, user int64) (*MeView, error) {
	v, err := a.Summary(ctx, user)
	// Nothing is shown before the work email is confirmed (again, after a
	// long absence).
	if err != nil || !v.WorkEmailVerified {
		return v, err
	}
	held := a.authz.Licences(user)
	ids := make([]int64, len(held))
	for i, h := range held {
		ids[i] = h.AgreementID
	}
	rows, err := a.store.LicenceRows(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]models.LicenceRow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	for _, h := range held {
		r, ok := byID[h.AgreementID]
		if !ok {
			continue
		}
		v.Licences = append(v.Licences, LicenceView{
			Number: r.Number, Program: r.Program, Name: r.Name, Starts: r.Starts, Ends: r.Ends,
			Permissions: h.Permissions, Inherited: h.Inherited,
		})
	}
	return v, nil
}

// Summary describes user without their licences: what page headers and
// the work email page need.
func (a *Accounts) Summary(ctx context.Context, user int64) (*MeView, error) {
	u := requestUser(ctx, user) // read with the request's credential
	if u == nil {
		var err error
		if u, err = a.store.SignedInUser(ctx, user); err != nil {
			return nil, err
		}
	}
	v := &MeView{ID: u.ID, DisplayName: u.DisplayName, Language: u.Language, Operator: a.authz.IsOperator(u.ID), Licences: []LicenceView{}}
	if u.WorkEmail != nil {
		v.WorkEmail = *u.WorkEmail
		v.WorkEmailVerified = u.WorkEmailVerifiedAt != nil
	}
	if u.PendingWorkEmail != v.WorkEmail {
		v.PendingWorkEmail = u.PendingWorkEmail
	}
	return v, nil
}
