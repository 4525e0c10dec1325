package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// maxImportUpload bounds an import uploaded through the API.
const maxImportUpload = 64 << 20

// mountOperator registers the operators' desk under /api/v1/operator.
func (s *Server) mountOperator(v1 gin.IRouter) {
	o := s.opts.Operators
	op := v1.Group("/operator")
	op.GET("/unadministered", func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		limit, _ := strconv.Atoi(c.Query("limit"))
		list, err := o.Unadministered(c.Request.Context(), user, limit)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"licences": list})
	})
	op.POST("/licences/:licence/appoint", func(c *gin.Context) {
		var body struct {
			Email string `json:"email"`
		}
		if !decodeJSON(c, &body) {
			return
		}
		user, _ := app.UserID(c.Request.Context())
		if err := o.Appoint(c.Request.Context(), user, c.Param("licence"), body.Email); err != nil {
			s.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	op.GET("/search", func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		res, err := o.Search(c.Request.Context(), user, c.Query("q"))
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, res)
	})
	// POST /api/v1/operator/import[?dry_run=true] with the JSON document
	// as the body: the validation report (or the counts) comes back. Only
	// an operator's body is read, one upload at a time.
	op.POST("/import", s.requireOperator, s.oneImport, func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		doc, err := models.DecodeImport(c.Request.Body)
		if err != nil {
			s.fail(c, err)
			return
		}
		dry := c.Query("dry_run") == "true"
		res, err := o.Import(c.Request.Context(), user, doc, dry, c.ClientIP())
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, res)
	})
}

// requireOperator answers 403, without reading the body, unless the
// request's user is an operator.
func (s *Server) requireOperator(c *gin.Context) {
	user, ok := app.UserID(c.Request.Context())
	if !ok || !s.opts.Access.Authz.IsOperator(user) {
		s.fail(c, app.ErrOperatorsOnly)
		return
	}
	c.Next()
}

// oneImport waits until no other import upload is being read and decoded.
func (s *Server) oneImport(c *gin.Context) {
	select {
	case s.imports <- struct{}{}:
		defer func() { <-s.imports }()
		c.Next()
	case <-c.Request.Context().Done():
		c.Abort()
	}
}
