package modelstest

import (
	"fmt"

	"github.com/openlsc/openlsc/models"
)

// LargeImport generates an import of nAgreements agreements (a tenth of
// them MBSAs with enrollments under them) and two keys per agreement.
func LargeImport(nAgreements int) *models.ImportDocument {
	doc := &models.ImportDocument{
		Products: []models.ImportProduct{{ID: "win-ent", Name: "Windows Enterprise", Versions: []models.ImportVersion{
			{Version: "11 24H2", Edition: "Enterprise"}, {Version: "10 22H2", Edition: "Enterprise"},
		}}},
	}
	nOrgs := nAgreements / 10
	for i := 0; i < nOrgs; i++ {
		doc.Organizations = append(doc.Organizations, models.ImportOrganization{Number: fmt.Sprintf("C%07d", i), Name: fmt.Sprintf("Customer %d", i)})
	}
	limit, used := int64(500), int64(120)
	for i := 0; i < nAgreements; i++ {
		org := fmt.Sprintf("C%07d", i/10)
		a := models.ImportAgreement{Organization: org, Number: fmt.Sprintf("A%08d", i)}
		if i%10 == 0 {
			a.Program = "mbsa"
			a.Contacts = []models.ImportContact{{Email: fmt.Sprintf("admin%d@customer.example", i/10), Role: "primary"}}
		} else {
			a.Program = "enterprise"
			a.Parent = fmt.Sprintf("A%08d", i-i%10)
			a.Starts, a.Ends = "2026-01-01", "2028-12-31"
		}
		doc.Agreements = append(doc.Agreements, a)
		doc.Entitlements = append(doc.Entitlements, models.ImportEntitlement{Agreement: a.Number, Product: "win-ent", Version: "11 24H2"})
		doc.Keys = append(doc.Keys,
			models.ImportKey{Agreement: a.Number, Product: "win-ent", Type: "mak", Key: fmt.Sprintf("MAK%08d-XXXXX-YYYYY", i), ActivationLimit: &limit, ActivationsUsed: &used},
			models.ImportKey{Agreement: a.Number, Product: "win-ent", Type: "kms", Key: fmt.Sprintf("KMS%08d-XXXXX-YYYYY", i)},
		)
	}
	return doc
}
