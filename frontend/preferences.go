package frontend

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/models"
)

// MountPreferences registers GET /preferences (Settings → Preferences):
// the language of the pages, and the inheritance choice of every MBSA the
// user administers, changed through POST /inheritance/:mbsa (see
// MountPermissions). The language form is a GET with ?lang=, handled like
// the footer's language links: it sets the openlsc_lang cookie and comes
// back without the parameter.
func (u *UI) MountPreferences(r gin.IRouter, acc PermissionsUseCases) {
	h := preferencePages{ui: u, acc: acc}
	r.GET("/preferences", u.page(h.show))
	r.POST("/preferences/language", h.setLanguage)
}

// languageSetter stores a user's language (*app.Accounts).
type languageSetter interface {
	SetLanguage(ctx context.Context, user int64, lang string) error
}

// setLanguage answers the Preferences language form: the pages switch to
// the language (cookie) and the user's mail is written in it from now on.
func (h preferencePages) setLanguage(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	tag, ok := h.ui.i18n.lookup(c.PostForm("lang"))
	if !ok {
		h.ui.Error(c, http.StatusBadRequest, models.Invalid("Choose a language.", models.FieldError{Field: "lang", Message: "en or ja"}))
		return
	}
	if s, ok := h.ui.accounts.(languageSetter); ok {
		if err := s.SetLanguage(c.Request.Context(), user, tag.String()); err != nil {
			h.ui.Error(c, httperr.Status(err), err)
			return
		}
	}
	setLanguageCookie(c, tag)
	c.Redirect(http.StatusSeeOther, "/preferences?saved=1")
}

type preferencePages struct {
	ui  *UI
	acc PermissionsUseCases
}

// preferencesView is the data of preferences.html.
type preferencesView struct {
	Languages []languageLink
	Saved     bool // an inheritance choice was just saved
	NotActive bool
	MBSAs     []inheritanceRow
}

func (h preferencePages) show(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	list, err := h.acc.Inheritance(c.Request.Context(), user)
	if err != nil {
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	v := preferencesView{
		Languages: h.ui.i18n.languageLinks(h.ui.i18n.negotiate(c.Request)),
		Saved:     c.Query("saved") == "1",
		NotActive: len(list) == 0 && h.ui.notConfirmed(c, user),
		MBSAs:     inheritanceRows(list),
	}
	h.ui.render(c, http.StatusOK, "preferences.html", "preferences", v)
}
