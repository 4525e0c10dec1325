package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
)

// mountLicences registers GET /api/v1/licences (the relationship summary)
// and GET /api/v1/licences/{licence} (one licence, for whoever may view it;
// anyone else is told it does not exist).
func (s *Server) mountLicences(v1 gin.IRouter) {
	acc := s.opts.Accounts
	v1.GET("/licences", func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		var page app.TreePage
		var err error
		if paged(c) {
			var q app.TreeQuery
			if q, err = app.ParseTreeQuery(c.Query("under"), c.Query("after"), c.Query("limit")); err == nil {
				page, err = acc.TreePage(c.Request.Context(), user, q)
			}
		} else {
			page.Licences, err = acc.Tree(c.Request.Context(), user)
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", appendTreeJSON(make([]byte, 0, 200*treeSize(page.Licences)+64), page))
	})
	guard := s.guard()
	v1.GET("/licences/:licence", guard.Require(authz.ActView, "licence"), func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		d, err := acc.Licence(c.Request.Context(), user, authz.LicenceID(c))
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, d)
	})
}

// paged tells whether GET /api/v1/licences asks for a page (under, after,
// limit or collapsed=true) rather than the whole tree.
func paged(c *gin.Context) bool {
	for _, p := range []string{"under", "after", "limit"} {
		if _, ok := c.GetQuery(p); ok {
			return true
		}
	}
	return c.Query("collapsed") == "true"
}
