package frontend

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// PermissionsUseCases is what the permission, inheritance and preference
// pages ask of the application (*app.Accounts).
type PermissionsUseCases interface {
	Permissions(ctx context.Context, user int64) ([]app.PermissionView, error)
	DropPermission(ctx context.Context, user int64, licence string, perm models.Permission) error
	Inheritance(ctx context.Context, user int64) ([]app.InheritanceView, error)
	SetInheritance(ctx context.Context, user int64, mbsa string, inherit bool) error
}

var _ PermissionsUseCases = (*app.Accounts)(nil)

// MountPermissions registers the user's own permission pages:
//
//	GET  /permissions                            my permissions and where each comes from
//	POST /permissions/:licence/:permission/remove drops a direct one
//	GET  /inheritance[?all=1][&return_to=]       the MBSA administrator inheritance option
//	POST /inheritance/:mbsa                      records inherit=1 or inherit=0
func (u *UI) MountPermissions(r gin.IRouter, acc PermissionsUseCases) {
	h := permissionPages{ui: u, acc: acc}
	r.GET("/permissions", u.page(h.list))
	r.POST("/permissions/:licence/:permission/remove", h.remove)
	r.GET("/inheritance", u.page(h.inheritance))
	r.POST("/inheritance/:mbsa", h.setInheritance)
}

type permissionPages struct {
	ui  *UI
	acc PermissionsUseCases
}

// InheritancePending reports whether user administers an MBSA and has not
// chosen yet whether to inherit administration of the agreements under it:
// such a user is to be sent to /inheritance?return_to=… after sign-in.
// Errors are logged and count as "nothing to ask".
func (u *UI) InheritancePending(ctx context.Context, acc PermissionsUseCases, user int64) bool {
	list, err := acc.Inheritance(ctx, user)
	if err != nil {
		u.logger.ErrorContext(ctx, "inheritance choices unavailable", "err", err)
		return false
	}
	for _, m := range list {
		if m.Inherit == nil {
			return true
		}
	}
	return false
}

// notConfirmed reports whether the user's work email still needs
// confirming (nothing is shown before), as far as the UI can tell.
func (u *UI) notConfirmed(c *gin.Context, user int64) bool {
	if u.accounts == nil {
		return false
	}
	me, err := u.accounts.Summary(c.Request.Context(), user)
	return err == nil && !me.WorkEmailVerified
}

// permissionsView is the data of permissions.html.
type permissionsView struct {
	NotActive   bool
	Removed     bool
	Error       string // message ID of a failed removal
	Permissions []app.PermissionView
}

func (h permissionPages) list(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	h.show(c, user, http.StatusOK, "")
}

func (h permissionPages) show(c *gin.Context, user int64, status int, errID string) {
	perms, err := h.acc.Permissions(c.Request.Context(), user)
	if err != nil {
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	v := permissionsView{
		NotActive:   len(perms) == 0 && h.ui.notConfirmed(c, user),
		Removed:     errID == "" && c.Query("removed") == "1",
		Error:       errID,
		Permissions: perms,
	}
	h.ui.render(c, status, "permissions.html", "permissions", v)
}

func (h permissionPages) remove(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	perm := models.Permission(c.Param("permission"))
	var err error = models.Errorf(models.CodeNotFound, "You hold no such permission.")
	if perm.Valid() {
		err = h.acc.DropPermission(c.Request.Context(), user, c.Param("licence"), perm)
	}
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/permissions?removed=1")
	case errors.Is(err, authz.ErrLastAdministrator):
		h.show(c, user, http.StatusConflict, "permissions.error.last_admin")
	case errors.Is(err, authz.ErrInheritedGrant):
		h.show(c, user, http.StatusForbidden, "permissions.error.inherited")
	case models.ErrorCode(err) == models.CodeForbidden:
		h.show(c, user, http.StatusForbidden, "permissions.error.contact")
	case models.ErrorCode(err) == models.CodeNotFound:
		h.show(c, user, http.StatusNotFound, "permissions.error.not_found")
	default:
		h.ui.Error(c, httperr.Status(err), err)
	}
}

// inheritanceView is the data of inheritance.html.
type inheritanceView struct {
	NotActive bool
	All       bool // every MBSA, not only the unanswered ones
	ReturnTo  string
	MBSAs     []inheritanceRow
	Error     string // message ID of a failed choice
}

// inheritanceRow is an MBSA the user administers and their choice.
type inheritanceRow struct {
	app.InheritanceView
}

// Chosen reports whether the user has answered for this MBSA.
func (r inheritanceRow) Chosen() bool { return r.Inherit != nil }

// Inherits reports whether the user chose to inherit.
func (r inheritanceRow) Inherits() bool { return r.Inherit != nil && *r.Inherit }

func inheritanceRows(list []app.InheritanceView) []inheritanceRow {
	rows := make([]inheritanceRow, len(list))
	for i, m := range list {
		rows[i] = inheritanceRow{m}
	}
	return rows
}

func (h permissionPages) inheritance(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	h.showInheritance(c, user, http.StatusOK, "")
}

func (h permissionPages) showInheritance(c *gin.Context, user int64, status int, errID string) {
	list, err := h.acc.Inheritance(c.Request.Context(), user)
	if err != nil {
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	all := c.Query("all") == "1" || c.PostForm("all") == "1"
	returnTo := c.Query("return_to")
	if c.Request.Method == http.MethodPost {
		returnTo = c.PostForm("return_to")
	}
	v := inheritanceView{
		NotActive: len(list) == 0 && h.ui.notConfirmed(c, user),
		All:       all,
		ReturnTo:  app.LocalPath(returnTo),
		Error:     errID,
	}
	for _, m := range list {
		if all || m.Inherit == nil {
			v.MBSAs = append(v.MBSAs, inheritanceRow{m})
		}
	}
	h.ui.render(c, status, "inheritance.html", "preferences", v)
}

func (h permissionPages) setInheritance(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	var inherit bool
	switch c.PostForm("inherit") {
	case "1":
		inherit = true
	case "0":
	default:
		h.showInheritance(c, user, http.StatusUnprocessableEntity, "inheritance.error.choose")
		return
	}
	mbsa := c.Param("mbsa")
	err := h.acc.SetInheritance(c.Request.Context(), user, mbsa, inherit)
	switch {
	case err == nil:
	case errors.Is(err, app.ErrVerifyFirst):
		h.showInheritance(c, user, http.StatusForbidden, "inheritance.error.verify")
		return
	case models.ErrorCode(err) != models.CodeInternal:
		// Not an MBSA the user administers, whatever the reason.
		h.showInheritance(c, user, http.StatusNotFound, "inheritance.error.not_found")
		return
	default:
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	returnTo := app.LocalPath(c.PostForm("return_to"))
	// Asked at sign-in about several MBSAs: the next one before going on.
	if c.PostForm("ask") == "1" && h.ui.InheritancePending(c.Request.Context(), h.acc, user) {
		c.Redirect(http.StatusSeeOther, "/inheritance?"+url.Values{"return_to": {returnTo}}.Encode())
		return
	}
	c.Redirect(http.StatusSeeOther, returnTo)
}
