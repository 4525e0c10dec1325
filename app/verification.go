package app

import (
	"context"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// VerificationFormData pre-fills the base-licence verification form that
// a customer gives the OEM or LSP installing Windows upgrade images on its
// computers (the "customer licence verification for third-party upgrade
// installation services" form). The OEM or LSP fills in the rest.
type VerificationFormData struct {
	Organization       string            `json:"organization"`
	OrganizationNumber string            `json:"organization_number"`
	Licence            string            `json:"licence"` // agreement number
	Program            models.Program    `json:"program"`
	Name               string            `json:"name,omitempty"`
	Starts             string            `json:"starts,omitempty"` // YYYY-MM-DD
	Ends               string            `json:"ends,omitempty"`
	ParentNumber       string            `json:"parent_number,omitempty"`
	Products           []EntitlementView `json:"products"`
	Date               string            `json:"date"` // today, YYYY-MM-DD (UTC)
}

// VerificationForm returns the data of the verification form of licence,
// for a user who may view it.
func (k *Keys) VerificationForm(ctx context.Context, user, licence int64) (*VerificationFormData, error) {
	if err := k.check(user, licence, authz.ActView); err != nil {
		return nil, err
	}
	r, err := k.store.Licence(ctx, licence)
	if models.ErrorCode(err) == models.CodeNotFound {
		return nil, authz.ErrNoSuchLicence
	}
	if err != nil {
		return nil, err
	}
	return &VerificationFormData{
		Organization: r.Organization.Name, OrganizationNumber: r.Organization.Number,
		Licence: r.Number, Program: r.Program, Name: r.Name, Starts: r.Starts.String(), Ends: r.Ends.String(),
		ParentNumber: r.ParentNumber, Products: entitlementViews(r.Entitlements), Date: k.store.Now().UTC().Format("2006-01-02"),
	}, nil
}
