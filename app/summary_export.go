package app

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// summaryCSVHeader is the first row of the summary exports.
var summaryCSVHeader = []string{"agreement", "via_mbsa", "product", "product_code", "pool", "quantity", "sa_quantity", "sa_ends", "sa_ending_soon"}

// summaryOrdersHeader is the first row of the orders sheet.
var summaryOrdersHeader = []string{"agreement", "product", "pool", "order", "date", "version", "edition", "licence_type", "quantity", "sa_ends", "sa_active"}

// summaryAgreementsHeader is the first row of the agreements sheet.
var summaryAgreementsHeader = []string{"agreement", "program", "organization", "name", "ends", "via_mbsa", "expired", "sa_ends", "sa_ending_soon"}

// WriteSummaryCSV writes the summary rows as CSV, one per agreement,
// product and pool. Text cells a spreadsheet would take for a formula are
// defused.
func WriteSummaryCSV(v *SummaryView, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(summaryCSVHeader); err != nil {
		return err
	}
	for _, r := range v.Rows {
		if err := cw.Write(summaryRowCells(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func summaryRowCells(r SummaryRow) []string {
	return []string{
		csvSafe(r.Agreement), csvSafe(r.ViaMBSA), csvSafe(r.Product), csvSafe(r.ProductCode), string(r.Pool),
		strconv.FormatInt(r.Quantity, 10), strconv.FormatInt(r.SAQuantity, 10), r.SAEnds, strconv.FormatBool(r.SAEndingSoon),
	}
}

// WriteSummaryXLSX writes the summary as a spreadsheet with three sheets:
// Summary (as the CSV), Orders (every order line) and Agreements.
// Quantities are numbers; text is stored as text, never as a formula.
func WriteSummaryXLSX(v *SummaryView, w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Summary"); err != nil {
		return err
	}
	summary := [][]any{toAny(summaryCSVHeader)}
	var orders [][]any
	orders = append(orders, toAny(summaryOrdersHeader))
	for _, r := range v.Rows {
		summary = append(summary, []any{r.Agreement, r.ViaMBSA, r.Product, r.ProductCode, string(r.Pool), r.Quantity, r.SAQuantity, r.SAEnds, r.SAEndingSoon})
		for _, o := range r.Orders {
			orders = append(orders, []any{r.Agreement, r.Product, string(r.Pool), o.Number, o.Date, o.Version, o.Edition,
				string(o.LicenceType), o.Quantity, o.SAEnds, o.SAActive})
		}
	}
	agreements := [][]any{toAny(summaryAgreementsHeader)}
	for _, a := range v.Agreements {
		agreements = append(agreements, []any{a.Number, a.Program, a.Organization, a.Name, a.Ends, a.ViaMBSA, a.Expired, a.SAEnds, a.SAEndingSoon})
	}
	for _, sheet := range []struct {
		name string
		rows [][]any
	}{{"Summary", summary}, {"Orders", orders}, {"Agreements", agreements}} {
		if sheet.name != "Summary" {
			if _, err := f.NewSheet(sheet.name); err != nil {
				return err
			}
		}
		if err := writeSheet(f, sheet.name, sheet.rows); err != nil {
			return err
		}
	}
	return f.Write(w)
}

// writeSheet writes rows from A1; strings are set as text cells.
func writeSheet(f *excelize.File, sheet string, rows [][]any) error {
	for i, row := range rows {
		for j, v := range row {
			cell, err := excelize.CoordinatesToCellName(j+1, i+1)
			if err != nil {
				return err
			}
			switch v := v.(type) {
			case string:
				err = f.SetCellStr(sheet, cell, v)
			default:
				err = f.SetCellValue(sheet, cell, v)
			}
			if err != nil {
				return fmt.Errorf("write %s!%s: %w", sheet, cell, err)
			}
		}
	}
	return nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
