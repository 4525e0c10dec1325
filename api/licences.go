package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
)

// mountLicences registers GET /api/v1/licences (the relationship summary:
// its first page, a page of one MBSA's licences, or with all=true the
// whole tree)
// and GET /api/v1/licences/{licence} (one licence, for whoever may view it;
// anyone else is told it does not exist).
func (s *Server) mountLicences(v1 gin.IRouter) {
	acc := s.opts.Accounts
	v1.GET("/licences", func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		var page app.TreePage
		var err error
		if c.Query("all") == "true" {
			page.Licences, err = acc.Tree(c.Request.Context(), user)
		} else {
			var q app.TreeQuery
			if q, err = app.ParseTreeQuery(c.Query("under"), c.Query("after"), c.Query("limit")); err == nil {
				if q.Under == "" && c.Query("collapsed") == "true" {
					q.Limit = 0
				}
				page, err = acc.TreePage(c.Request.Context(), user, q)
			}
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
