package app

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// TreeNode is a licence in the relationship summary, with the licences
// under it that the user can see.
type TreeNode struct {
	LicenceView
	Parent   string     `json:"parent,omitempty"` // the MBSA above, when the user cannot see it
	Expired  bool       `json:"expired"`
	Children []TreeNode `json:"children,omitempty"`
	// ChildCount, on a page of the summary (TreePage), is how many
	// licences are under this one, however many Children shows.
	ChildCount int `json:"children_count,omitempty"`
}

// Tree is the relationship summary: the licences user can see as a tree,
// MBSA → enrollments and Select Plus; Open License and Open Value stand
// alone. Nothing is shown before the work email is confirmed.
func (a *Accounts) Tree(ctx context.Context, user int64) ([]TreeNode, error) {
	return a.tree(ctx, user, -1)
}

// tree is Tree with at most preview licences under each top licence, and
// their number in ChildCount; all of them, and no ChildCount, when preview
// is negative.
func (a *Accounts) tree(ctx context.Context, user int64, preview int) ([]TreeNode, error) {
	active, err := a.Active(ctx, user)
	if err != nil || !active {
		return []TreeNode{}, err
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
	visible := make(map[int64]bool, len(rows))
	for _, r := range rows {
		visible[r.ID] = true
	}
	var hiddenParents []int64
	for _, r := range rows {
		if r.ParentID != nil && !visible[*r.ParentID] {
			visible[*r.ParentID] = true // listed once
			hiddenParents = append(hiddenParents, *r.ParentID)
		}
	}
	parents, err := a.store.LicenceRows(ctx, hiddenParents)
	if err != nil {
		return nil, err
	}
	parentNumber := make(map[int64]string, len(parents))
	for _, p := range parents {
		parentNumber[p.ID] = p.Number
	}
	return buildTree(rows, held, parentNumber, a.store.Now().Format("2006-01-02"), preview), nil
}

// buildTree arranges rows into roots (sorted by number) with the visible
// licences under them (sorted too), in two passes over rows: one counts
// the licences under each root, the other places every node in one
// backing array. held is sorted by licence id (authz.Licences); today is
// YYYY-MM-DD; preview is as for tree: the licences it leaves out are
// counted, not built.
func buildTree(rows []models.LicenceRow, held []authz.LicenceAccess, parentNumber map[int64]string, today string, preview int) []TreeNode {
	node := func(r models.LicenceRow) TreeNode {
		var acc authz.LicenceAccess
		if i, ok := slices.BinarySearchFunc(held, r.ID, func(h authz.LicenceAccess, id int64) int { return cmp.Compare(h.AgreementID, id) }); ok {
			acc = held[i]
		}
		return TreeNode{LicenceView: LicenceView{
			Number: r.Number, Program: r.Program, Name: r.Name, Starts: r.Starts, Ends: r.Ends,
			Permissions: acc.Permissions, Inherited: acc.Inherited,
		}, Expired: r.Ends != "" && r.Ends < today}
	}
	slices.SortFunc(rows, func(x, y models.LicenceRow) int { return strings.Compare(x.Number, y.Number) })
	// under is the root a row is shown under; 0 for a root.
	under := func(r models.LicenceRow) int64 {
		if r.ParentID == nil {
			return 0
		}
		if _, hidden := parentNumber[*r.ParentID]; hidden {
			return 0
		}
		return *r.ParentID
	}
	count := map[int64]int{}
	for _, r := range rows {
		count[under(r)]++
	}
	roots := make([]TreeNode, 0, count[0])
	rootOf := make(map[int64]int, count[0]) // index in roots of each root's id
	for _, r := range rows {
		if under(r) == 0 {
			n := node(r)
			if r.ParentID != nil {
				n.Parent = parentNumber[*r.ParentID]
			}
			rootOf[r.ID] = len(roots)
			roots = append(roots, n)
		}
	}
	children := make([]TreeNode, 0, len(rows)-len(roots))
	for id, i := range rootOf {
		shown := count[id]
		if preview >= 0 {
			shown = min(shown, preview)
			roots[i].ChildCount = count[id]
		}
		from := len(children)
		children = children[:from+shown]
		roots[i].Children = children[from:from:len(children)]
	}
	for _, r := range rows {
		// A licence under a licence that is itself under another is not
		// shown: agreements nest two levels deep.
		if i, ok := rootOf[under(r)]; ok && r.ParentID != nil && len(roots[i].Children) < cap(roots[i].Children) {
			roots[i].Children = append(roots[i].Children, node(r))
		}
	}
	for i := range roots {
		if len(roots[i].Children) == 0 {
			roots[i].Children = nil
		}
	}
	return roots
}

// Page sizes of the relationship summary's pages (TreeQuery.Limit).
const (
	TreePageSize    = 200
	TreeMaxPageSize = 1000
)

// TreeQuery selects a page of the relationship summary.
type TreeQuery struct {
	// Under is the number of the licence whose licences are listed, a page
	// at a time, in number order; "" lists the licences at the top.
	Under string
	// After, with Under, is the number of the last licence of the
	// previous page: a cursor (keyset), so a licence added or removed
	// between two pages neither repeats nor hides another.
	After string
	// Limit, with Under, is the page size (TreePageSize when 0); without,
	// how many of the licences under each top licence are shown (none
	// when 0: the summary collapsed).
	Limit int
}

// ParseTreeQuery reads a TreeQuery from the query parameters under, after
// and limit; limit is checked against TreeMaxPageSize.
func ParseTreeQuery(under, after, limit string) (TreeQuery, error) {
	q := TreeQuery{Under: strings.TrimSpace(under), After: strings.TrimSpace(after)}
	if limit != "" {
		n, err := strconv.Atoi(strings.TrimSpace(limit))
		if err != nil || n < 1 || n > TreeMaxPageSize {
			return q, models.Invalid("The page size is not valid.",
				models.FieldError{Field: "limit", Message: "Give a number from 1 to " + strconv.Itoa(TreeMaxPageSize) + "."})
		}
		q.Limit = n
	}
	if q.Under == "" && q.After != "" {
		return q, models.Invalid("A cursor needs the licence it pages through.",
			models.FieldError{Field: "under", Message: "Give the number of the licence whose licences are listed."})
	}
	return q, nil
}

// TreePage is one page of the relationship summary.
type TreePage struct {
	// Licences are the top licences, each with ChildCount and its first
	// licences; or, with Under, the page of Under's licences.
	Licences []TreeNode
	Under    string // Under's number when it is one the user sees with licences under it
	Next     string // the cursor (After) of the next page of Under's licences; "" on the last
	// UnderNode, with Under, is that licence itself (without Children).
	UnderNode TreeNode
}

// TreePage cuts the relationship summary (see Tree) to the page q asks
// for. The tree is built whole, once, in O(n); only what is shown is
// encoded or rendered.
func (a *Accounts) TreePage(ctx context.Context, user int64, q TreeQuery) (TreePage, error) {
	if q.Under == "" {
		tree, err := a.tree(ctx, user, q.Limit)
		return TreePage{Licences: tree}, err
	}
	tree, err := a.Tree(ctx, user)
	if err != nil {
		return TreePage{}, err
	}
	return underPage(tree, q), nil
}

// underPage is the page q of the licences under q.Under in tree.
func underPage(tree []TreeNode, q TreeQuery) TreePage {
	p := TreePage{Licences: []TreeNode{}}
	i, found := slices.BinarySearchFunc(tree, q.Under, func(n TreeNode, k string) int { return strings.Compare(n.Number, k) })
	if !found || len(tree[i].Children) == 0 {
		return p
	}
	kids := tree[i].Children
	start, at := slices.BinarySearchFunc(kids, q.After, func(n TreeNode, k string) int { return strings.Compare(n.Number, k) })
	if at {
		start++
	}
	end := min(start+cmp.Or(q.Limit, TreePageSize), len(kids))
	p.Licences, p.Under, p.UnderNode = kids[start:end], q.Under, tree[i]
	p.UnderNode.Children, p.UnderNode.ChildCount = nil, len(kids)
	if end < len(kids) {
		p.Next = kids[end-1].Number
	}
	return p
}

// LicenceAccessView is what a user holds on one licence.
type LicenceAccessView struct {
	Permissions []models.Permission
	Inherited   bool
}

// LicenceDetail is the detail page of one licence.
type LicenceDetail struct {
	TreeNode
	Organization       string            `json:"organization"`
	OrganizationNumber string            `json:"organization_number"`
	ParentNumber       string            `json:"parent_number,omitempty"`
	Entitlements       []EntitlementView `json:"entitlements"`
}

// EntitlementView is a product version a licence is entitled to.
type EntitlementView struct {
	Product string `json:"product"`
	Version string `json:"version"`
	Edition string `json:"edition,omitempty"`
}

// Licence returns the details of licence, for a user who may view it.
func (a *Accounts) Licence(ctx context.Context, user, licence int64) (*LicenceDetail, error) {
	if !a.authz.Can(user, licence, authz.ActView) {
		return nil, authz.ErrNoSuchLicence
	}
	r, err := a.store.Licence(ctx, licence)
	if models.ErrorCode(err) == models.CodeNotFound {
		return nil, models.New(models.CodeNotFound, "err.licence.no_such", "No such licence.")
	}
	if err != nil {
		return nil, err
	}
	d := &LicenceDetail{TreeNode: TreeNode{LicenceView: LicenceView{
		Number: r.Number, Program: r.Program, Name: r.Name, Starts: r.Starts.String(), Ends: r.Ends.String(),
	}}, Organization: r.Organization.Name, OrganizationNumber: r.Organization.Number, ParentNumber: r.ParentNumber,
		Entitlements: entitlementViews(r.Entitlements)}
	for _, h := range a.authz.Licences(user) {
		if h.AgreementID == licence {
			d.Permissions, d.Inherited = h.Permissions, h.Inherited
		}
	}
	return d, nil
}

func entitlementViews(es []models.Entitled) []EntitlementView {
	out := make([]EntitlementView, len(es))
	for i, e := range es {
		out[i] = EntitlementView{Product: e.Product, Version: e.Version, Edition: e.Edition}
	}
	return out
}
