package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// activeUser is the request's user when their work email is confirmed.
func (s *Server) activeUser(c *gin.Context) (int64, bool) {
	user, ok := app.UserID(c.Request.Context())
	if !ok {
		return 0, false
	}
	active, err := s.opts.Accounts.Active(c.Request.Context(), user)
	if err != nil {
		authz.UserFailed(c, err)
	}
	return user, err == nil && active
}

// mountAdmin registers the licence administration routes under
// /api/v1/licences/{licence}: only administrators of that licence get
// past the guard; everyone else is told the licence does not exist.
func (s *Server) mountAdmin(v1 gin.IRouter) {
	a := s.opts.Admin
	guard := s.guard()
	lic := v1.Group("/licences/:licence", guard.Require(authz.ActManage, "licence"))
	lic.GET("/users", func(c *gin.Context) {
		admin, _ := app.UserID(c.Request.Context())
		list, err := a.Users(c.Request.Context(), admin, authz.LicenceID(c))
		if err != nil {
			s.fail(c, err)
			return
		}
		perm, source := models.Permission(c.Query("permission")), c.Query("source")
		if perm != "" && !perm.Valid() {
			s.fail(c, models.Invalid("Unknown permission filter.", models.FieldError{Field: "permission", Message: "administrator, license_viewer, download_manager or key_reader"}))
			return
		}
		switch source {
		case "", "direct", "contact", "inherited", "invited":
		default:
			s.fail(c, models.Invalid("Unknown source filter.", models.FieldError{Field: "source", Message: "direct, contact, inherited or invited"}))
			return
		}
		c.JSON(http.StatusOK, gin.H{"users": app.FilterUsers(list, perm, source)})
	})
	lic.POST("/users", func(c *gin.Context) {
		var in app.AddUserInput
		if !decodeJSON(c, &in) {
			return
		}
		admin, _ := app.UserID(c.Request.Context())
		if err := a.AddUser(c.Request.Context(), admin, authz.LicenceID(c), in); err != nil {
			s.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	setPerms := func(c *gin.Context, perms []models.Permission) {
		user, err := strconv.ParseInt(c.Param("user"), 10, 64)
		if err != nil {
			s.fail(c, models.Errorf(models.CodeNotFound, "This person has no access to the licence."))
			return
		}
		admin, _ := app.UserID(c.Request.Context())
		if err := a.SetPermissions(c.Request.Context(), admin, authz.LicenceID(c), user, perms); err != nil {
			s.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
	lic.PUT("/users/:user", func(c *gin.Context) {
		var body struct {
			Permissions []models.Permission `json:"permissions"`
		}
		if !decodeJSON(c, &body) {
			return
		}
		setPerms(c, body.Permissions)
	})
	lic.DELETE("/users/:user", func(c *gin.Context) { setPerms(c, nil) })
	lic.POST("/invitations/:id/resend", func(c *gin.Context) {
		id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
		admin, _ := app.UserID(c.Request.Context())
		if err := a.ResendInvitation(c.Request.Context(), admin, authz.LicenceID(c), id); err != nil {
			s.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
}
