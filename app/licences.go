package app

import (
	"context"
	"slices"

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
}

// Tree is the relationship summary: the licences user can see as a tree,
// MBSA → enrollments and Select Plus; Open License and Open Value stand
// alone. Nothing is shown before the work email is confirmed.
func (a *Accounts) Tree(ctx context.Context, user int64) ([]TreeNode, error) {
	me, err := a.Summary(ctx, user)
	if err != nil || !me.WorkEmailVerified {
		return []TreeNode{}, err
	}
	held := a.authz.Licences(user)
	ids := make([]int64, len(held))
	access := map[int64]LicenceAccessView{}
	for i, h := range held {
		ids[i] = h.AgreementID
		access[h.AgreementID] = LicenceAccessView{Permissions: h.Permissions, Inherited: h.Inherited}
	}
	ags, err := a.store.AgreementsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	var parentIDs []int64
	for _, ag := range ags {
		if ag.ParentID != nil {
			parentIDs = append(parentIDs, *ag.ParentID)
		}
	}
	parents, err := a.store.AgreementsByID(ctx, parentIDs)
	if err != nil {
		return nil, err
	}
	today := models.Date{}
	if d, err := models.ParseDate(a.store.Now().Format("2006-01-02")); err == nil {
		today = d
	}
	node := func(ag models.Agreement) TreeNode {
		acc := access[ag.ID]
		return TreeNode{LicenceView: LicenceView{
			Number: ag.Number, Program: ag.Program, Name: ag.Name, Starts: ag.Starts.String(), Ends: ag.Ends.String(),
			Permissions: acc.Permissions, Inherited: acc.Inherited,
		}, Expired: !ag.Ends.IsZero() && ag.Ends.Before(today)}
	}
	children := map[int64][]TreeNode{}
	var roots []TreeNode
	var rootIDs []int64 // id of each root, in step with roots
	for _, ag := range ags {
		if ag.ParentID != nil {
			if _, visible := ags[*ag.ParentID]; visible {
				children[*ag.ParentID] = append(children[*ag.ParentID], node(ag))
				continue
			}
		}
		n := node(ag)
		if ag.ParentID != nil {
			n.Parent = parents[*ag.ParentID].Number
		}
		rootIDs = append(rootIDs, ag.ID)
		roots = append(roots, n)
	}
	for i, id := range rootIDs {
		roots[i].Children = children[id]
		slices.SortFunc(roots[i].Children, byNumber)
	}
	slices.SortFunc(roots, byNumber)
	if roots == nil {
		roots = []TreeNode{}
	}
	return roots, nil
}

// LicenceAccessView is what a user holds on one licence.
type LicenceAccessView struct {
	Permissions []models.Permission
	Inherited   bool
}

func byNumber(x, y TreeNode) int {
	switch {
	case x.Number < y.Number:
		return -1
	case x.Number > y.Number:
		return 1
	}
	return 0
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
