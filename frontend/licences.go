package frontend

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
)

// LicenceViews is what the licence pages ask of the application.
type LicenceViews interface {
	TreePage(ctx context.Context, user int64, q app.TreeQuery) (app.TreePage, error)
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
		ctx := c.Request.Context()
		q := app.TreeQuery{Under: c.Query("under"), After: c.Query("after"), Limit: app.TreePageSize}
		if q.Under == "" {
			q = app.TreeQuery{Limit: treePreview}
		}
		page, err := views.TreePage(ctx, user, q)
		if err == nil && q.Under != "" && page.Under == "" { // not an MBSA with licences the user sees
			page, err = views.TreePage(ctx, user, app.TreeQuery{Limit: treePreview})
		}
		if err != nil {
			u.Error(c, httperr.Status(err), err)
			return
		}
		u.render(c, http.StatusOK, "licences.html", "licences", pageTree(page, time.Now()))
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
