package app

import (
	"cmp"
	"slices"
	"time"

	"github.com/openlsc/openlsc/models"
)

// summaryKey identifies a summary row.
type summaryKey struct {
	agreement int64
	product   string
	pool      models.Pool
}

// summarize adds up the order lines of agreements as of today.
func summarize(today time.Time, agreements []summaryAgreement, orgs map[int64]models.Organization, lines []models.OrderLine) *SummaryView {
	soon := today.AddDate(0, 0, SAWarningDays)
	view := &SummaryView{AsOf: today.Format(time.DateOnly), Agreements: []SummaryAgreement{}, Rows: []SummaryRow{}, Products: []SummaryProduct{}}
	position := make(map[int64]int, len(agreements))
	saEnds := make(map[int64]time.Time, len(agreements))
	for i, a := range agreements {
		position[a.ID] = i
	}
	rows := map[summaryKey]*SummaryRow{}
	var order []summaryKey
	rowEnds := map[summaryKey]time.Time{}
	for _, l := range lines {
		k := summaryKey{l.AgreementID, l.ProductCode, l.Pool}
		r := rows[k]
		if r == nil {
			a := agreements[position[l.AgreementID]]
			r = &SummaryRow{Agreement: a.Number, ViaMBSA: a.via, Product: l.ProductName, ProductCode: l.ProductCode, Pool: l.Pool, Orders: []SummaryOrder{}}
			rows[k] = r
			order = append(order, k)
		}
		ends := l.SAEnds.Time()
		active := l.LicenceType.HasSA() && !ends.Before(today)
		if l.LicenceType.CountsLicences() {
			r.Quantity += l.Quantity
		}
		if active {
			r.SAQuantity += l.Quantity
		}
		if l.LicenceType.HasSA() {
			rowEnds[k] = later(rowEnds[k], ends)
			saEnds[l.AgreementID] = later(saEnds[l.AgreementID], ends)
		}
		r.Orders = append(r.Orders, SummaryOrder{
			Number: l.Number, Date: l.Ordered.String(), Version: l.Version, Edition: l.Edition, Quantity: l.Quantity,
			LicenceType: l.LicenceType, SAEnds: l.SAEnds.String(), SAActive: active,
		})
	}
	slices.SortStableFunc(order, func(a, b summaryKey) int {
		return cmp.Or(cmp.Compare(position[a.agreement], position[b.agreement]),
			cmp.Compare(rows[a].Product, rows[b].Product), cmp.Compare(poolRank(a.pool), poolRank(b.pool)))
	})
	for _, k := range order {
		r := rows[k]
		if e := rowEnds[k]; !e.IsZero() {
			r.SAEnds, r.SAEndingSoon = e.Format(time.DateOnly), e.Before(soon)
		}
		view.Rows = append(view.Rows, *r)
	}
	for _, a := range agreements {
		view.Agreements = append(view.Agreements, summaryAgreementView(a, orgs[a.OrganizationID], saEnds[a.ID], today, soon))
	}
	view.Products = productTotals(view.Rows)
	return view
}

func summaryAgreementView(a summaryAgreement, org models.Organization, saEnds, today, soon time.Time) SummaryAgreement {
	v := SummaryAgreement{
		Number: a.Number, Program: string(a.Program), Name: a.Name, Organization: org.Name,
		Ends: a.Ends.String(), ViaMBSA: a.via,
		Expired: !a.Ends.IsZero() && a.Ends.Time().Before(today),
	}
	if !saEnds.IsZero() {
		v.SAEnds, v.SAEndingSoon = saEnds.Format(time.DateOnly), saEnds.Before(soon)
	}
	v.Flagged = v.Expired || v.SAEndingSoon
	return v
}

// productTotals adds up rows per product and pool, by product name and pool.
func productTotals(rows []SummaryRow) []SummaryProduct {
	type key struct {
		code string
		pool models.Pool
	}
	totals := map[key]*SummaryProduct{}
	out := []SummaryProduct{}
	var keys []key
	for _, r := range rows {
		k := key{r.ProductCode, r.Pool}
		t := totals[k]
		if t == nil {
			t = &SummaryProduct{Product: r.Product, ProductCode: r.ProductCode, Pool: r.Pool}
			totals[k] = t
			keys = append(keys, k)
		}
		t.Quantity += r.Quantity
		t.SAQuantity += r.SAQuantity
	}
	for _, k := range keys {
		out = append(out, *totals[k])
	}
	slices.SortStableFunc(out, func(a, b SummaryProduct) int {
		return cmp.Or(cmp.Compare(a.Product, b.Product), cmp.Compare(poolRank(a.Pool), poolRank(b.Pool)))
	})
	return out
}

func poolRank(p models.Pool) int { return slices.Index(models.Pools, p) }

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
