package frontend

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
)

// LicenceViews is what the licence pages ask of the application.
type LicenceViews interface {
	Tree(ctx context.Context, user int64) ([]app.TreeNode, error)
	Licence(ctx context.Context, user, licence int64) (*app.LicenceDetail, error)
}

// MountLicences registers the relationship summary (GET /licences) and
// the licence detail page (GET /licences/:licence), which guard lets only
// users who may view the licence see; others get the same page as for an
// unknown licence.
func (u *UI) MountLicences(r gin.IRouter, views LicenceViews, guard authz.Guard) {
	r.GET("/licences", u.page(func(c *gin.Context) {
		user, _, ok := u.signedIn(c)
		if !ok {
			return
		}
		tree, err := views.Tree(c.Request.Context(), user)
		if err != nil {
			u.Error(c, httperr.Status(err), err)
			return
		}
		u.render(c, http.StatusOK, "licences.html", "licences", pageTree(tree, c.Query("under"), c.Query("after")))
	}))
	guard.Fail = func(c *gin.Context, err error) {
		if _, ok := app.UserID(c.Request.Context()); !ok {
			u.signedIn(c) // sends the browser to sign in
			return
		}
		u.Error(c, httperr.Status(err), err)
	}
	r.GET("/licences/:licence", guard.Require(authz.ActView, "licence"), u.page(func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		d, err := views.Licence(c.Request.Context(), user, authz.LicenceID(c))
		if err != nil {
			u.Error(c, httperr.Status(err), err)
			return
		}
		u.render(c, http.StatusOK, "licence.html", "licences", d)
	}))
}

// Page sizes of the relationship summary: the licences under an MBSA
// shown in its collapsed entry, and per page of one MBSA's licences.
const (
	treePreview  = 20
	treePageSize = 200
)

// treePage is the relationship summary as the page shows it: every root,
// each MBSA collapsed with the first licences under it; or, with Under
// set, one page of the licences under that MBSA, after the cursor.
type treePage struct {
	Roots    []treeRoot
	Under    *app.TreeNode // the MBSA whose licences are listed
	Children []app.TreeNode
	Next     string // cursor of the next page of Children ("" on the last)
}

// treeRoot is a root with at most treePreview of its children.
type treeRoot struct {
	app.TreeNode
	Total int // number of children
}

// pageTree cuts tree down to what one page shows: a page's rendering cost
// follows what it shows, not the size of the tree.
func pageTree(tree []app.TreeNode, under, after string) treePage {
	if under != "" {
		for i := range tree {
			if tree[i].Number != under {
				continue
			}
			kids := tree[i].Children
			start, _ := slices.BinarySearchFunc(kids, after, func(n app.TreeNode, k string) int { return strings.Compare(n.Number, k) })
			if start < len(kids) && kids[start].Number == after {
				start++
			}
			end := min(start+treePageSize, len(kids))
			p := treePage{Under: &tree[i], Children: kids[start:end]}
			if end < len(kids) {
				p.Next = kids[end-1].Number
			}
			return p
		}
	}
	roots := make([]treeRoot, len(tree))
	for i, n := range tree {
		roots[i] = treeRoot{TreeNode: n, Total: len(n.Children)}
		roots[i].Children = n.Children[:min(len(n.Children), treePreview)]
	}
	return treePage{Roots: roots}
}
