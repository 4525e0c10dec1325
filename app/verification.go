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
	ags, err := k.store.AgreementsByID(ctx, []int64{licence})
	if err != nil {
		return nil, err
	}
	ag, ok := ags[licence]
	if !ok {
		return nil, authz.ErrNoSuchLicence
	}
	d := &VerificationFormData{
		Licence: ag.Number, Program: ag.Program, Name: ag.Name, Starts: ag.Starts.String(), Ends: ag.Ends.String(),
		Products: []EntitlementView{}, Date: k.store.Now().UTC().Format("2006-01-02"),
	}
	db := k.store.DB().WithContext(ctx)
	var org models.Organization
	if err := db.Take(&org, ag.OrganizationID).Error; err != nil {
		return nil, err
	}
	d.Organization, d.OrganizationNumber = org.Name, org.Number
	if ag.ParentID != nil {
		if ps, err := k.store.AgreementsByID(ctx, []int64{*ag.ParentID}); err == nil {
			d.ParentNumber = ps[*ag.ParentID].Number
		}
	}
	err = db.Table("entitlements AS e").
		Select("p.name AS product, v.version, v.edition").
		Joins("JOIN product_versions v ON v.id = e.version_id").
		Joins("JOIN products p ON p.id = v.product_id").
		Where("e.agreement_id = ?", licence).Order("p.name, v.version, v.edition").Scan(&d.Products).Error
	if err != nil {
		return nil, err
	}
	return d, nil
}
