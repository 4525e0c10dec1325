package app

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/openlsc/openlsc/authz"
)

// shallowTree is the relationship summary without the licences a user
// reaches by inheriting under an MBSA: those are read a page at a time,
// by their parent and number, so a page of the summary of an MBSA with
// thousands of licences reads only what it shows.
type shallowTree struct {
	roots []TreeNode // with every other licence under them
	held  []authz.LicenceAccess
	// inherited[i] lists the licences reached by inheriting under
	// roots[i], when user inherits under it.
	inherited map[int]authz.Inherited
	today     string
}

// shallow reads user's summary as shallowTree. Who sees what is the
// authorizer's decision: the licences listed under an MBSA are kept only
// when it says user reaches them.
func (a *Accounts) shallow(ctx context.Context, user int64) (shallowTree, error) {
	st := shallowTree{roots: []TreeNode{}, today: a.store.Now().Format("2006-01-02")}
	active, err := a.Active(ctx, user)
	if err != nil || !active {
		return st, err
	}
	st.held = a.authz.Licences(user)
	inherited := slices.DeleteFunc(a.authz.InheritedLicences(user), func(in authz.Inherited) bool { return !holds(st.held, in.MBSA) })
	var through []int64
	for _, in := range inherited {
		through = append(through, in.Licences...)
	}
	slices.Sort(through)
	ids := make([]int64, 0, len(st.held)-min(len(through), len(st.held)))
	for _, h := range st.held {
		if _, ok := slices.BinarySearch(through, h.AgreementID); !ok {
			ids = append(ids, h.AgreementID)
		}
	}
	if st.roots, err = a.readTree(ctx, st.held, ids); err != nil {
		return st, err
	}
	mbsas, err := a.store.LicenceRows(ctx, mbsaIDs(inherited))
	if err != nil {
		return st, err
	}
	st.inherited = make(map[int]authz.Inherited, len(inherited))
	for _, m := range mbsas {
		i, found := rootIndex(st.roots, m.Number)
		j, _ := slices.BinarySearchFunc(inherited, m.ID, func(in authz.Inherited, id int64) int { return cmp.Compare(in.MBSA, id) })
		if found && len(inherited[j].Licences) > 0 {
			st.inherited[i] = inherited[j]
		}
	}
	return st, nil
}

func mbsaIDs(inherited []authz.Inherited) []int64 {
	ids := make([]int64, len(inherited))
	for i, in := range inherited {
		ids[i] = in.MBSA
	}
	return ids
}

// rootIndex finds the top licence number in roots (sorted by number).
func rootIndex(roots []TreeNode, number string) (int, bool) {
	return slices.BinarySearchFunc(roots, number, func(n TreeNode, k string) int { return strings.Compare(n.Number, k) })
}

// children returns, in number order, at most n of the licences under
// roots[i] whose number sorts after after, and how many licences are
// under it in all.
func (a *Accounts) children(ctx context.Context, st shallowTree, i int, after string, n int) ([]TreeNode, int, error) {
	direct := st.roots[i].Children
	from, at := slices.BinarySearchFunc(direct, after, func(c TreeNode, k string) int { return strings.Compare(c.Number, k) })
	if at {
		from++
	}
	kids := slices.Clone(direct[from:])
	in, ok := st.inherited[i]
	if !ok {
		return kids[:min(n, len(kids))], len(direct), nil
	}
	more, err := a.inheritedPage(ctx, st, in, after, n)
	if err != nil {
		return nil, 0, err
	}
	kids = append(kids, more...)
	slices.SortFunc(kids, func(x, y TreeNode) int { return strings.Compare(x.Number, y.Number) })
	return kids[:min(n, len(kids))], len(direct) + len(in.Licences), nil
}

// inheritedPage reads, in number order, at most n of the licences under
// in.MBSA after the number after that the authorizer says user reaches
// by inheriting under it (in.Licences).
func (a *Accounts) inheritedPage(ctx context.Context, st shallowTree, in authz.Inherited, after string, n int) ([]TreeNode, error) {
	out := make([]TreeNode, 0, n)
	for len(out) < n {
		want := n - len(out)
		rows, err := a.store.ChildRows(ctx, in.MBSA, after, want)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if _, ok := slices.BinarySearch(in.Licences, r.ID); ok {
				out = append(out, treeNode(r, st.held, st.today))
			}
		}
		if len(rows) < want {
			break
		}
		after = rows[len(rows)-1].Number
	}
	return out, nil
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

// TreePage returns the page q of the relationship summary (see Tree),
// reading only the licences it shows.
func (a *Accounts) TreePage(ctx context.Context, user int64, q TreeQuery) (TreePage, error) {
	st, err := a.shallow(ctx, user)
	if err != nil {
		return TreePage{}, err
	}
	if q.Under != "" {
		return a.underPage(ctx, st, q)
	}
	for i := range st.roots {
		kids, count, err := a.children(ctx, st, i, "", q.Limit)
		if err != nil {
			return TreePage{}, err
		}
		st.roots[i].Children, st.roots[i].ChildCount = kids, count
		if len(kids) == 0 {
			st.roots[i].Children = nil
		}
		if len(kids) > 0 && count > len(kids) {
			st.roots[i].Next = kids[len(kids)-1].Number
		}
	}
	return TreePage{Licences: st.roots}, nil
}

// underPage is the page q of the licences under q.Under.
func (a *Accounts) underPage(ctx context.Context, st shallowTree, q TreeQuery) (TreePage, error) {
	p := TreePage{Licences: []TreeNode{}}
	i, found := rootIndex(st.roots, q.Under)
	if !found {
		return p, nil
	}
	limit := cmp.Or(q.Limit, TreePageSize)
	kids, count, err := a.children(ctx, st, i, q.After, limit+1)
	if err != nil || count == 0 {
		return p, err
	}
	p.Under, p.UnderNode = q.Under, st.roots[i]
	p.UnderNode.Children, p.UnderNode.ChildCount = nil, count
	if len(kids) > limit {
		kids = kids[:limit]
		p.Next = kids[limit-1].Number
	}
	p.Licences = kids
	return p, nil
}
