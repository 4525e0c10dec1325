package frontend

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// Accounts is what the account pages ask of the application.
type Accounts interface {
	Summary(ctx context.Context, user int64) (*app.MeView, error)
	RegisterWorkEmail(ctx context.Context, user, identity int64, email string) error
	VerifyWorkEmail(ctx context.Context, user, identity int64, token string, takeOver bool) (string, error)
	InheritancePending(ctx context.Context, user int64) bool
}

// Providers lists the OpenID providers users may sign in with.
type Providers interface {
	Providers() []*app.Provider
}

// userView is the signed-in user, shown in the header of every page.
type userView struct {
	Name      string
	WorkEmail string
	Verified  bool
	Operator  bool
	Nav       app.Navigation // what the side navigation offers
}

// navigator is implemented by account sources that can say which parts of
// the UI a user may use (*app.Accounts).
type navigator interface {
	Navigation(user int64, verified bool) app.Navigation
}

// currentUser describes the request's signed-in user, or nil.
func (u *UI) currentUser(c *gin.Context) *userView {
	id, ok := app.UserID(c.Request.Context())
	if !ok || u.accounts == nil {
		return nil
	}
	me, err := u.accounts.Summary(c.Request.Context(), id)
	if err != nil {
		u.logger.ErrorContext(c.Request.Context(), "signed-in user unavailable", "err", err)
		return nil
	}
	v := &userView{Name: me.DisplayName, WorkEmail: me.WorkEmail, Verified: me.WorkEmailVerified, Operator: me.Operator}
	if v.Name == "" {
		v.Name = me.WorkEmail
	}
	v.Nav.Operator = me.Operator
	if n, ok := u.accounts.(navigator); ok {
		v.Nav = n.Navigation(id, v.Verified)
	}
	return v
}

// mountAccount registers the sign-in and work email pages.
func (u *UI) mountAccount(r gin.IRouter) {
	r.GET("/signin", u.page(u.signIn))
	r.GET("/account/work-email", u.page(u.workEmailForm))
	r.POST("/account/work-email", u.limit(u.limits.WorkEmail), u.registerWorkEmail)
	r.GET("/verify-email", u.page(u.verifyForm))
	r.POST("/verify-email", u.limit(u.limits.Verify), u.verifyEmail)
}

type signInView struct {
	Providers []providerLink
}

type providerLink struct {
	Label string
	URL   string
}

// signIn lists the providers, each a link that starts sign-in there.
func (u *UI) signIn(c *gin.Context) {
	returnTo := app.LocalPath(c.Query("return_to"))
	if _, ok := app.UserID(c.Request.Context()); ok {
		c.Redirect(http.StatusSeeOther, returnTo)
		return
	}
	var v signInView
	for _, p := range u.providers.Providers() {
		q := url.Values{"provider": {p.Name()}, "return_to": {returnTo}}
		v.Providers = append(v.Providers, providerLink{Label: p.Label(), URL: "/auth/login?" + q.Encode()})
	}
	u.render(c, http.StatusOK, "signin.html", "signin", v)
}

// signedIn returns the user and identity of the request, or sends the
// browser to sign in first and reports false.
func (u *UI) signedIn(c *gin.Context) (user, identity int64, ok bool) {
	sess := app.SessionFrom(c.Request.Context())
	if sess == nil || sess.Record.UserID == nil || sess.Record.IdentityID == nil {
		c.Redirect(http.StatusSeeOther, "/signin?"+url.Values{"return_to": {c.Request.URL.RequestURI()}}.Encode())
		return 0, 0, false
	}
	return *sess.Record.UserID, *sess.Record.IdentityID, true
}

type workEmailView struct {
	Me     *app.MeView
	Sent   bool
	Email  string
	Errors []models.FieldError
}

// workEmailForm shows the work email, its state and the form to change it.
func (u *UI) workEmailForm(c *gin.Context) {
	user, _, ok := u.signedIn(c)
	if !ok {
		return
	}
	me, err := u.accounts.Summary(c.Request.Context(), user)
	if err != nil {
		u.Error(c, http.StatusInternalServerError, err)
		return
	}
	u.render(c, http.StatusOK, "workemail.html", "account", workEmailView{Me: me, Sent: c.Query("sent") == "1"})
}

// registerWorkEmail mails a confirmation link and shows "check your inbox".
func (u *UI) registerWorkEmail(c *gin.Context) {
	user, identity, ok := u.signedIn(c)
	if !ok {
		return
	}
	email := c.PostForm("email")
	err := u.accounts.RegisterWorkEmail(c.Request.Context(), user, identity, email)
	var e *models.Error
	if errors.As(err, &e) && e.Code == models.CodeInvalid {
		me, _ := u.accounts.Summary(c.Request.Context(), user)
		u.render(c, http.StatusUnprocessableEntity, "workemail.html", "account", workEmailView{Me: me, Email: email, Errors: e.Fields})
		return
	}
	if err != nil {
		u.Error(c, httperr.Status(err), err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/account/work-email?sent=1")
}

type verifyView struct {
	Token    string
	Done     string // the confirmed email
	Conflict bool   // the email is confirmed by another sign-in
}

// verifyForm asks for a click before confirming: mail scanners that open
// links must not use them up.
func (u *UI) verifyForm(c *gin.Context) {
	if _, _, ok := u.signedIn(c); !ok {
		return
	}
	u.render(c, http.StatusOK, "verify.html", "account", verifyView{Token: c.Query("token")})
}

// verifyEmail confirms the work email of the link.
func (u *UI) verifyEmail(c *gin.Context) {
	user, identity, ok := u.signedIn(c)
	if !ok {
		return
	}
	token := c.PostForm("token")
	email, err := u.accounts.VerifyWorkEmail(c.Request.Context(), user, identity, token, c.PostForm("take_over") == "1")
	switch {
	case errors.Is(err, app.ErrEmailTaken):
		u.render(c, http.StatusConflict, "verify.html", "account", verifyView{Token: token, Conflict: true})
	case err != nil:
		u.Error(c, httperr.Status(err), err)
	case u.inheritancePage != "" && u.accounts.InheritancePending(c.Request.Context(), user):
		// Now an MBSA administrator: ask about inheritance first.
		c.Redirect(http.StatusSeeOther, u.inheritancePage+"?return_to=/licences")
	default:
		u.render(c, http.StatusOK, "verify.html", "account", verifyView{Done: email})
	}
}

// signedInOperator returns the signed-in user when isOperator says they
// are an operator; otherwise it answers the request (sign-in or 403).
func (u *UI) signedInOperator(c *gin.Context, isOperator func(int64) bool) (int64, bool) {
	user, _, ok := u.signedIn(c)
	if !ok {
		return 0, false
	}
	if !isOperator(user) {
		u.Error(c, http.StatusForbidden, app.ErrOperatorsOnly)
		return 0, false
	}
	return user, true
}
