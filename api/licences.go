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
		tree, err := acc.Tree(c.Request.Context(), user)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", appendTreeJSON(make([]byte, 0, 200*treeSize(tree)+64), tree))
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
