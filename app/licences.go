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
	// ChildCount, on the first page of the summary (TreePage), is how many
	// licences are under this one, however many Children shows.
	ChildCount int `json:"children_count,omitempty"`
	// Next, on the first page of the summary, is the cursor (TreeQuery
	// After, with Under this licence) of the next page of the licences
	// under it; "" when Children shows them all.
	Next string `json:"next,omitempty"`
}

// Tree is the relationship summary: the licences user can see as a tree,
// MBSA → enrollments and Select Plus; Open License and Open Value stand
// alone. Nothing is shown before the work email is confirmed.
func (a *Accounts) Tree(ctx context.Context, user int64) ([]TreeNode, error) {
	active, err := a.Active(ctx, user)
	if err != nil || !active {
		return []TreeNode{}, err
	}
	held := a.authz.Licences(user)
	ids := make([]int64, len(held))
	for i, h := range held {
		ids[i] = h.AgreementID
	}
	return a.readTree(ctx, held, ids)
}

// readTree reads the rows of ids, licences of held, and arranges them
// (buildTree); a licence under one user does not see is shown at the top
// with that one's number.
func (a *Accounts) readTree(ctx context.Context, held []authz.LicenceAccess, ids []int64) ([]TreeNode, error) {
	rows, err := a.store.LicenceRows(ctx, ids)
	if err != nil {
		return nil, err
	}
	listed := map[int64]bool{}
	var hiddenParents []int64
	for _, r := range rows {
		if r.ParentID != nil && !holds(held, *r.ParentID) && !listed[*r.ParentID] {
			listed[*r.ParentID] = true
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
	return buildTree(rows, held, parentNumber, a.store.Now().Format("2006-01-02")), nil
}

// holds reports whether held (sorted by licence id) has licence.
func holds(held []authz.LicenceAccess, licence int64) bool {
	_, ok := heldAccess(held, licence)
	return ok
}

// heldAccess is what held (sorted by licence id) has on licence.
func heldAccess(held []authz.LicenceAccess, licence int64) (authz.LicenceAccess, bool) {
	i, ok := slices.BinarySearchFunc(held, licence, func(h authz.LicenceAccess, id int64) int { return cmp.Compare(h.AgreementID, id) })
	if !ok {
		return authz.LicenceAccess{}, false
	}
	return held[i], true
}

// buildTree arranges rows into roots (sorted by number) with the visible
// licences under them (sorted too), in two passes over rows: one counts
// the licences under each root, the other places every node in one
// backing array. held is sorted by licence id (authz.Licences); today is
// YYYY-MM-DD.
func buildTree(rows []models.LicenceRow, held []authz.LicenceAccess, parentNumber map[int64]string, today string) []TreeNode {
	node := func(r models.LicenceRow) TreeNode { return treeNode(r, held, today) }
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
		from := len(children)
		children = children[:from+count[id]]
		roots[i].Children = children[from:from:len(children)]
	}
	for _, r := range rows {
		// A licence under a licence that is itself under another is not
		// shown: agreements nest two levels deep.
		if i, ok := rootOf[under(r)]; ok && r.ParentID != nil {
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

// treeNode is the node of r, with what user holds on it (held, sorted by
// licence id); today is YYYY-MM-DD.
func treeNode(r models.LicenceRow, held []authz.LicenceAccess, today string) TreeNode {
	acc, _ := heldAccess(held, r.ID)
	return TreeNode{LicenceView: LicenceView{
		Number: r.Number, Program: r.Program, Name: r.Name, Starts: r.Starts, Ends: r.Ends,
		Permissions: acc.Permissions, Inherited: acc.Inherited,
	}, Expired: r.Ends != "" && r.Ends < today}
}

// Page sizes of the relationship summary's pages (TreeQuery.Limit).
const (
	// TreePreview is how many of the licences under each top licence the
	// first page of the summary shows.
	TreePreview     = 20
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
// and limit; limit is checked against TreeMaxPageSize. Without under or
// limit, the first page shows TreePreview licences under each top licence.
func ParseTreeQuery(under, after, limit string) (TreeQuery, error) {
	q := TreeQuery{Under: strings.TrimSpace(under), After: strings.TrimSpace(after)}
	if limit != "" {
		n, err := parsePageSize(limit, TreeMaxPageSize, "err.licences.page_size")
		if err != nil {
			return q, err
		}
		q.Limit = n
	} else if q.Under == "" {
		q.Limit = TreePreview
	}
	if q.Under == "" && q.After != "" {
		return q, models.InvalidKey("err.licences.cursor", "A cursor needs the licence it pages through.",
			models.FieldError{Field: "under", Key: "err.field.cursor_under", Message: "Give the number of the licence whose licences are listed."})
	}
	return q, nil
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

// parsePageSize reads a page size from 1 to most from the query parameter
// limit; key is the error's message key when it is not one.
func parsePageSize(limit string, most int, key string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(limit))
	if err != nil || n < 1 || n > most {
		return 0, models.InvalidKey(key, "The page size is not valid.",
			models.FieldError{Field: "limit", Key: "err.field.page_size", Args: models.Args{"Max": most},
				Message: "Give a number from 1 to " + strconv.Itoa(most) + "."})
	}
	return n, nil
}
