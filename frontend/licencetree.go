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
	// More, on a row of its own after the first licences under an MBSA,
	// is how many there are in all: the row links to their full list.
	More int
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

// treePreview is how many of the licences under an MBSA the relationship
// summary shows under it, as the API's first page (one MBSA's full list
// is paged by app.TreePageSize).
const treePreview = app.TreePreview

// treePage is the relationship summary as one page shows it: every root
// with the first licences under it; or, with Under set, one page of the
// licences under that MBSA, after the cursor. The application cuts the
// tree to the page (app.TreePage), so rendering follows what is shown,
// not the size of the tree.
type treePage struct {
	Rows  []licenceRow
	Under string // the MBSA whose licences are listed ("" on the summary)
	Next  string // cursor of the next page of Under's licences ("" on the last)
}

// pageTree lays out one page of the relationship summary as table rows,
// with a row linking to all of an MBSA's licences where it has more than
// the page shows.
func pageTree(page app.TreePage, now time.Time) treePage {
	if page.Under != "" {
		root := page.UnderNode
		root.Children = page.Licences
		return treePage{Rows: licenceRows([]app.TreeNode{root}, now), Under: page.Under, Next: page.Next}
	}
	var p treePage
	for _, root := range page.Licences {
		p.Rows = append(p.Rows, licenceRows([]app.TreeNode{root}, now)...)
		if root.ChildCount > len(root.Children) {
			p.Rows = append(p.Rows, licenceRow{TreeNode: app.TreeNode{LicenceView: app.LicenceView{Number: root.Number}}, Child: true, More: root.ChildCount})
		}
	}
	return p
}
