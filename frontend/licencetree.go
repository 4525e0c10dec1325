package frontend

import (
	"slices"
	"strings"
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

// Page sizes of the relationship summary: the licences under an MBSA
// shown under it, and per page of one MBSA's full list.
const (
	treePreview  = 20
	treePageSize = 200
)

// treePage is the relationship summary as one page shows it: every root
// with the first licences under it; or, with Under set, one page of the
// licences under that MBSA, after the cursor. A page's rendering cost
// follows what it shows, not the size of the tree.
type treePage struct {
	Rows  []licenceRow
	Under string // the MBSA whose licences are listed ("" on the summary)
	Next  string // cursor of the next page of Under's licences ("" on the last)
}

// pageTree cuts tree down to one page (see treePage).
func pageTree(tree []app.TreeNode, under, after string, now time.Time) treePage {
	if under != "" {
		for _, root := range tree {
			if root.Number == under {
				return underPage(root, after, now)
			}
		}
	}
	var p treePage
	for _, root := range tree {
		total := len(root.Children)
		root.Children = root.Children[:min(total, treePreview)]
		p.Rows = append(p.Rows, licenceRows([]app.TreeNode{root}, now)...)
		if total > treePreview {
			p.Rows = append(p.Rows, licenceRow{TreeNode: app.TreeNode{LicenceView: app.LicenceView{Number: root.Number}}, Child: true, More: total})
		}
	}
	return p
}

// underPage is the page of root's licences after the one numbered after.
func underPage(root app.TreeNode, after string, now time.Time) treePage {
	kids := root.Children
	start, found := slices.BinarySearchFunc(kids, after, func(n app.TreeNode, k string) int { return strings.Compare(n.Number, k) })
	if found {
		start++
	}
	end := min(start+treePageSize, len(kids))
	root.Children = kids[start:end]
	p := treePage{Rows: licenceRows([]app.TreeNode{root}, now), Under: root.Number}
	if end < len(kids) {
		p.Next = kids[end-1].Number
	}
	return p
}
