package frontend

import (
	"time"

	"github.com/openlsc/openlsc/app"
)

// expiringWithin is how close an agreement's end must be for the
// relationship summary and the home page to call it "expiring soon".
const expiringWithin = 90 * 24 * time.Hour

// licenceRow is one row of the relationship summary table.
type licenceRow struct {
	app.TreeNode
	Child       bool   // an enrollment under an MBSA shown above it
	ShowProgram bool   // false when the row above names the same program
	Status      string // "active", "expiring" or "expired"
}

// licenceRows flattens the tree into table rows, children right under
// their MBSA, naming a program only where it changes.
func licenceRows(tree []app.TreeNode, now time.Time) []licenceRow {
	var rows []licenceRow
	prev := ""
	add := func(n app.TreeNode, child bool) {
		program := string(n.Program)
		rows = append(rows, licenceRow{TreeNode: n, Child: child, ShowProgram: program != prev, Status: licenceStatus(n, now)})
		prev = program
	}
	for _, n := range tree {
		add(n, false)
		for _, c := range n.Children {
			add(c, true)
		}
		prev = ""
	}
	return rows
}

// licenceStatus says whether an agreement is active, ends within 90 days,
// or has ended.
func licenceStatus(n app.TreeNode, now time.Time) string {
	if n.Expired {
		return "expired"
	}
	if n.Ends == "" {
		return "active"
	}
	end, err := time.Parse("2006-01-02", n.Ends)
	if err == nil && end.Sub(now) <= expiringWithin {
		return "expiring"
	}
	return "active"
}
