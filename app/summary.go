package app

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// Limits and thresholds of the licence summary.
const (
	// MaxSummaryLicences is the most licences one summary covers.
	MaxSummaryLicences = 50
	// SAWarningDays is how close the end of Software Assurance (or of the
	// agreement) must be for the summary to flag it.
	SAWarningDays = 90
)

// Summary is the licence summary use case: how many licences of which
// product a customer owns, on which agreement, with which Software
// Assurance, added up from the imported orders.
type Summary struct {
	store *models.Store
	authz *authz.Authorizer
}

// NewSummary returns the licence summary use case.
func NewSummary(store *models.Store, az *authz.Authorizer) *Summary {
	return &Summary{store: store, authz: az}
}

// SummaryView is the licence summary of one or several licences.
type SummaryView struct {
	AsOf       string             `json:"as_of"` // the day SA status is computed for
	Agreements []SummaryAgreement `json:"agreements"`
	Rows       []SummaryRow       `json:"rows"`     // per agreement, product and pool
	Products   []SummaryProduct   `json:"products"` // per product and pool, over every agreement
}

// SummaryAgreement is an agreement the summary covers.
type SummaryAgreement struct {
	Number       string `json:"number"`
	Program      string `json:"program"`
	Name         string `json:"name,omitempty"`
	Organization string `json:"organization"`
	Ends         string `json:"ends,omitempty"`
	// ViaMBSA is the MBSA through which the agreement was reached, when it
	// was not selected itself.
	ViaMBSA      string `json:"via_mbsa,omitempty"`
	Expired      bool   `json:"expired"`
	SAEnds       string `json:"sa_ends,omitempty"` // latest end of Software Assurance on its orders
	SAEndingSoon bool   `json:"sa_ending_soon"`    // within SAWarningDays, or already ended
	Flagged      bool   `json:"flagged"`           // expired or SA ending soon
}

// SummaryRow is what one agreement holds of one product in one pool.
type SummaryRow struct {
	Agreement    string         `json:"agreement"`
	ViaMBSA      string         `json:"via_mbsa,omitempty"`
	Product      string         `json:"product"`
	ProductCode  string         `json:"product_code"`
	Pool         models.Pool    `json:"pool"`
	Quantity     int64          `json:"quantity"`    // licences: the sum of the licence, licence_sa and subscription lines
	SAQuantity   int64          `json:"sa_quantity"` // with Software Assurance active today
	SAEnds       string         `json:"sa_ends,omitempty"`
	SAEndingSoon bool           `json:"sa_ending_soon"`
	Orders       []SummaryOrder `json:"orders"`
}

// SummaryOrder is one order line of a summary row.
type SummaryOrder struct {
	Number      string             `json:"number"`
	Date        string             `json:"date"`
	Version     string             `json:"version,omitempty"`
	Edition     string             `json:"edition,omitempty"`
	Quantity    int64              `json:"quantity"`
	LicenceType models.LicenceType `json:"licence_type"`
	SAEnds      string             `json:"sa_ends,omitempty"`
	SAActive    bool               `json:"sa_active"`
}

// SummaryProduct is the total of one product in one pool.
type SummaryProduct struct {
	Product     string      `json:"product"`
	ProductCode string      `json:"product_code"`
	Pool        models.Pool `json:"pool"`
	Quantity    int64       `json:"quantity"`
	SAQuantity  int64       `json:"sa_quantity"`
}

// errTooManyLicences refuses an oversized summary.
var errTooManyLicences = models.InvalidKey("err.summary.too_many", "Choose fewer licences.",
	models.FieldError{Field: "licence", Key: "err.field.summary_max", Message: "a summary covers at most 50 licences"})

// Build returns the summary of the licences numbered numbers, which user
// must each be allowed to view; any other number, known or not, is
// answered like an unknown licence. An MBSA brings in the agreements
// under it that user may view, marked with it.
func (s *Summary) Build(ctx context.Context, user int64, numbers []string) (*SummaryView, error) {
	agreements, err := s.selected(ctx, user, numbers)
	if err != nil {
		return nil, err
	}
	agreements, err = s.withChildren(ctx, user, agreements)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(agreements))
	for i, a := range agreements {
		ids[i] = a.ID
	}
	lines, err := s.store.OrderLinesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	orgs, err := s.store.OrganizationsByID(ctx, organizationsOf(agreements))
	if err != nil {
		return nil, err
	}
	today := s.store.Now().UTC().Truncate(24 * time.Hour)
	return summarize(today, agreements, orgs, lines), nil
}

// summaryAgreement is an agreement of a summary with the MBSA it was
// reached through, if any.
type summaryAgreement struct {
	models.Agreement
	via string
}

// selected resolves and checks the numbers, in order, without repeats.
func (s *Summary) selected(ctx context.Context, user int64, numbers []string) ([]summaryAgreement, error) {
	var out []summaryAgreement
	seen := map[string]bool{}
	for _, n := range numbers {
		n = strings.TrimSpace(n)
		if seen[n] {
			continue
		}
		seen[n] = true
		if len(seen) > MaxSummaryLicences {
			return nil, errTooManyLicences
		}
		a, err := s.store.AgreementByNumber(ctx, n)
		if err != nil {
			return nil, err
		}
		if a == nil || !s.authz.Can(user, a.ID, authz.ActView) {
			return nil, authz.ErrNoSuchLicence
		}
		out = append(out, summaryAgreement{Agreement: *a})
	}
	if len(out) == 0 {
		return nil, authz.ErrNoSuchLicence
	}
	return out, nil
}

// withChildren adds the agreements under the selected MBSAs that user may
// view and that are not selected themselves.
func (s *Summary) withChildren(ctx context.Context, user int64, in []summaryAgreement) ([]summaryAgreement, error) {
	var mbsas []int64
	have := map[int64]bool{}
	number := map[int64]string{}
	for _, a := range in {
		have[a.ID] = true
		number[a.ID] = a.Number
		if a.Program == models.ProgramMBSA {
			mbsas = append(mbsas, a.ID)
		}
	}
	if len(mbsas) == 0 {
		return in, nil
	}
	children, err := s.store.AgreementsUnder(ctx, mbsas)
	if err != nil {
		return nil, err
	}
	for _, c := range children {
		if have[c.ID] || !s.authz.Can(user, c.ID, authz.ActView) {
			continue
		}
		have[c.ID] = true
		in = append(in, summaryAgreement{Agreement: c, via: number[*c.ParentID]})
	}
	return in, nil
}

func organizationsOf(as []summaryAgreement) []int64 {
	var ids []int64
	for _, a := range as {
		if !slices.Contains(ids, a.OrganizationID) {
			ids = append(ids, a.OrganizationID)
		}
	}
	return ids
}

// SummaryChoice is a licence the user may put in a summary.
type SummaryChoice struct {
	Number  string `json:"number"`
	Program string `json:"program"`
	Name    string `json:"name,omitempty"`
}

// maxSummaryChoices bounds the licences offered for selection.
const maxSummaryChoices = 500

// Choices lists the licences user may view, by number (at most 500;
// more can be named by number).
func (s *Summary) Choices(ctx context.Context, user int64) ([]SummaryChoice, error) {
	var ids []int64
	for _, la := range s.authz.Licences(user) {
		if s.authz.Can(user, la.AgreementID, authz.ActView) {
			ids = append(ids, la.AgreementID)
		}
		if len(ids) == maxSummaryChoices {
			break
		}
	}
	byID, err := s.store.AgreementsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]SummaryChoice, 0, len(byID))
	for _, a := range byID {
		out = append(out, SummaryChoice{Number: a.Number, Program: string(a.Program), Name: a.Name})
	}
	slices.SortFunc(out, func(a, b SummaryChoice) int { return strings.Compare(a.Number, b.Number) })
	return out, nil
}
