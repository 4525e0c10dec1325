package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// mountRequests registers the access request routes on the signed-in
// /api/v1 group.
func (s *Server) mountRequests(v1 gin.IRouter) {
	r := s.opts.Requests
	v1.POST("/access-requests", s.rateLimit(s.limits.AccessRequests), func(c *gin.Context) {
		var in app.RequestInput
		if !decodeJSON(c, &in) {
			return
		}
		in.ClientAddress = c.ClientIP() // behind the configured trusted proxies only
		user, _ := app.UserID(c.Request.Context())
		view, created, err := r.Submit(c.Request.Context(), user, in)
		if err != nil {
			s.fail(c, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		c.JSON(status, view)
	})
	v1.GET("/access-requests", func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		list, err := r.Mine(c.Request.Context(), user)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"requests": list})
	})
	v1.GET("/access-requests/pending", func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		list, err := r.Pending(c.Request.Context(), user)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"requests": list})
	})
	v1.POST("/access-requests/:id/cancel", s.withRequestID(func(c *gin.Context, user, id int64) error {
		return r.Cancel(c.Request.Context(), user, id)
	}))
	v1.POST("/access-requests/:id/approve", s.withRequestID(func(c *gin.Context, user, id int64) error {
		var body struct {
			Permissions []models.Permission `json:"permissions"`
		}
		if c.Request.ContentLength != 0 && !decodeJSON(c, &body) {
			return errAnswered
		}
		return r.Approve(c.Request.Context(), user, id, body.Permissions)
	}))
	v1.POST("/access-requests/:id/deny", s.withRequestID(func(c *gin.Context, user, id int64) error {
		var body struct {
			Message string `json:"message"`
		}
		if c.Request.ContentLength != 0 && !decodeJSON(c, &body) {
			return errAnswered
		}
		return r.Deny(c.Request.Context(), user, id, body.Message)
	}))
}

// errAnswered means the handler has written its answer already.
var errAnswered = models.Errorf(models.CodeInvalid, "answered")

// withRequestID parses the :id of an access request route and answers 204
// when fn succeeds.
func (s *Server) withRequestID(fn func(c *gin.Context, user, id int64) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			s.fail(c, models.Errorf(models.CodeNotFound, "No such access request."))
			return
		}
		user, _ := app.UserID(c.Request.Context())
		switch err := fn(c, user, id); {
		case err == errAnswered:
		case err != nil:
			s.fail(c, err)
		default:
			c.Status(http.StatusNoContent)
		}
	}
}
