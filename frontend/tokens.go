package frontend

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// TokenUseCases is what the personal access tokens page asks of the
// application (*app.Tokens).
type TokenUseCases interface {
	Create(ctx context.Context, user int64, name string, lifetime time.Duration) (*app.NewToken, error)
	List(ctx context.Context, user int64) ([]app.TokenView, error)
	Revoke(ctx context.Context, user, id int64) error
}

var _ TokenUseCases = (*app.Tokens)(nil)

// tokenLifetimes are the lifetimes the form offers, in days.
var tokenLifetimes = []int{30, 90, 365}

// MountTokens registers the personal access tokens page (Settings →
// Access tokens): GET /account/tokens lists them, POST /account/tokens
// creates one and shows its secret once, POST /account/tokens/:id/revoke
// ends one.
func (u *UI) MountTokens(r gin.IRouter, tokens TokenUseCases) {
	h := tokenPages{ui: u, tokens: tokens}
	r.GET("/account/tokens", u.page(h.show))
	r.POST("/account/tokens", h.create)
	r.POST("/account/tokens/:id/revoke", h.revoke)
}

type tokenPages struct {
	ui     *UI
	tokens TokenUseCases
}

// tokensView is the data of tokens.html.
type tokensView struct {
	Tokens    []app.TokenView
	Created   *app.NewToken // shown once, right after creation
	Revoked   bool
	Name      string
	Days      int
	Lifetimes []int
	Errors    []models.FieldError
	ErrorText string // a refusal other than invalid input, such as too many tokens
}

// Invalid reports whether the form field is in error.
func (v tokensView) Invalid(field string) bool {
	for _, e := range v.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

func (h tokenPages) show(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	h.render(c, user, http.StatusOK, tokensView{Revoked: c.Query("revoked") == "1", Days: 90})
}

// render lists the user's tokens into v and renders the page.
func (h tokenPages) render(c *gin.Context, user int64, status int, v tokensView) {
	list, err := h.tokens.List(c.Request.Context(), user)
	if err != nil {
		h.ui.Error(c, api.StatusOf(models.ErrorCode(err)), err)
		return
	}
	v.Tokens, v.Lifetimes = list, tokenLifetimes
	if v.Created != nil {
		// The secret is on this page only: never keep it in a cache.
		c.Header("Cache-Control", "no-store")
	}
	h.ui.render(c, status, "tokens.html", "tokens", v)
}

func (h tokenPages) create(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	v := tokensView{Name: c.PostForm("name")}
	v.Days, _ = strconv.Atoi(c.PostForm("expires_in_days"))
	created, err := h.tokens.Create(c.Request.Context(), user, v.Name, time.Duration(v.Days)*24*time.Hour)
	var e *models.Error
	switch {
	case errors.As(err, &e) && e.Code == models.CodeInvalid:
		v.Errors = e.Fields
		h.render(c, user, http.StatusUnprocessableEntity, v)
	case errors.As(err, &e) && e.Code == models.CodeConflict:
		v.ErrorText = "tokens.error.too_many"
		h.render(c, user, http.StatusConflict, v)
	case err != nil:
		h.ui.Error(c, api.StatusOf(models.ErrorCode(err)), err)
	default:
		h.render(c, user, http.StatusOK, tokensView{Created: created, Days: 90})
	}
}

func (h tokenPages) revoke(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err == nil {
		err = h.tokens.Revoke(c.Request.Context(), user, id)
	} else {
		err = models.Errorf(models.CodeNotFound, "No such token.")
	}
	if err != nil {
		h.ui.Error(c, api.StatusOf(models.ErrorCode(err)), err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/account/tokens?revoked=1")
}
