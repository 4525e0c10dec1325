package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// Auth is how requests are authenticated: browser sessions from OpenID
// Connect sign-in, and personal access tokens.
type Auth struct {
	Sessions *app.Sessions
	SignIn   *app.SignIn
	Tokens   *app.Tokens // nil leaves bearer tokens and the token routes out
	// InheritancePage, when set, is where sign-in sends an MBSA
	// administrator who has not answered the inheritance question.
	InheritancePage string
}

// cookieName is the session cookie's name: with the __Host- prefix (which
// browsers accept only with Secure, Path=/ and no Domain) over https.
func (s *Server) cookieName() string {
	if s.secure() {
		return "__Host-openlsc_session"
	}
	return "openlsc_session"
}

func (s *Server) secure() bool { return s.opts.BaseURL != nil && s.opts.BaseURL.Scheme == "https" }

func (s *Server) setSessionCookie(c *gin.Context, token string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: s.cookieName(), Value: token, Path: "/", HttpOnly: true, Secure: s.secure(),
		SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: s.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: s.secure(),
		SameSite: http.SameSiteLaxMode, MaxAge: -1, Expires: time.Unix(0, 0),
	})
}

func (s *Server) sessionToken(c *gin.Context) string {
	v, err := c.Cookie(s.cookieName())
	if err != nil {
		return ""
	}
	return v
}

// loadSession puts the request's session, if it has a valid one, into the
// request context, and its user id into the log lines.
func (s *Server) loadSession(c *gin.Context) {
	token := s.sessionToken(c)
	if token == "" {
		c.Next()
		return
	}
	sess, err := s.opts.Auth.Sessions.Load(c.Request.Context(), token)
	switch {
	case errors.Is(err, app.ErrNoSession):
		s.clearSessionCookie(c)
	case err != nil:
		s.fail(c, err)
		return
	default:
		c.Request = c.Request.WithContext(app.WithSession(c.Request.Context(), sess))
		if sess.Record.UserID != nil {
			SetLogAttrs(c, slog.Int64("user_id", *sess.Record.UserID))
		}
	}
	c.Next()
}

// login starts OpenID Connect sign-in: GET /auth/login?provider=&return_to=.
func (s *Server) login(c *gin.Context) {
	token, authURL, err := s.opts.Auth.SignIn.Begin(c.Request.Context(), c.Query("provider"), c.Query("return_to"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setSessionCookie(c, token)
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, authURL)
}

// callback completes sign-in: GET /auth/callback?code=&state=.
func (s *Server) callback(c *gin.Context) {
	sess := app.SessionFrom(c.Request.Context())
	if e := c.Query("error"); e != "" || sess == nil {
		loggerFrom(c).Warn("sign-in failed", slog.String("provider_error", e), slog.Bool("session", sess != nil))
		s.fail(c, app.ErrSignInFailed)
		return
	}
	// A first sign-in keeps the language of the pages as the user's.
	ctx := app.WithLanguage(c.Request.Context(), app.RequestLanguage(c.Request))
	token, user, returnTo, err := s.opts.Auth.SignIn.Finish(ctx, sess, c.Query("state"), c.Query("code"))
	if err != nil {
		s.clearSessionCookie(c)
		loggerFrom(c).Warn("sign-in failed", slog.Any("error", err))
		s.fail(c, err)
		return
	}
	SetLogAttrs(c, slog.Int64("user_id", user.ID))
	loggerFrom(c).Info("signed in")
	if page := s.opts.Auth.InheritancePage; page != "" && s.opts.Accounts.InheritancePending(c.Request.Context(), user.ID) {
		returnTo = page + "?return_to=" + url.QueryEscape(returnTo)
	}
	s.setSessionCookie(c, token)
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, returnTo)
}

// logout ends the session: POST /auth/logout.
func (s *Server) logout(c *gin.Context) {
	sess := app.SessionFrom(c.Request.Context())
	next, err := s.opts.Auth.SignIn.SignOut(c.Request.Context(), s.sessionToken(c), sess, s.opts.BaseURL.String()+"/")
	if err != nil {
		s.fail(c, err)
		return
	}
	s.clearSessionCookie(c)
	c.Redirect(http.StatusSeeOther, next)
}

// requireUser answers 401 unless the request is signed in.
func (s *Server) requireUser(c *gin.Context) {
	if _, ok := app.UserID(c.Request.Context()); !ok {
		writeProblem(c, Problem{Type: "about:blank", Title: http.StatusText(http.StatusUnauthorized),
			Status: http.StatusUnauthorized, Detail: "Sign in first.", RequestID: RequestID(c)})
		return
	}
	c.Next()
}

// me answers GET /api/v1/me.
func (s *Server) me(c *gin.Context) {
	user, _ := app.UserID(c.Request.Context())
	view, err := s.opts.Accounts.Me(c.Request.Context(), user)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, view)
}

// signedInIdentity returns the request's user and the identity they signed
// in with, or answers 403 and reports false.
func (s *Server) signedInIdentity(c *gin.Context) (user, identity int64, ok bool) {
	sess := app.SessionFrom(c.Request.Context())
	if sess == nil || sess.Record.UserID == nil || sess.Record.IdentityID == nil {
		s.fail(c, models.Errorf(models.CodeForbidden, "Sign in first."))
		return 0, 0, false
	}
	return *sess.Record.UserID, *sess.Record.IdentityID, true
}

// decodeJSON reads the request body into v, answering 422 when it is not
// the JSON object the route expects and 413 when it is over its limit.
func decodeJSON(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body) // limited by limits.Body
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); httperr.TooLarge(err) {
		WriteError(c, err)
		return false
	} else if err != nil {
		WriteError(c, models.Invalid("The request body is not the JSON object this route expects: "+strings.TrimPrefix(err.Error(), "json: ")+"."))
		return false
	}
	if err := models.CheckFields(v); err != nil { // the free-text rule, models/text.go
		WriteError(c, err)
		return false
	}
	return true
}

// putWorkEmail answers PUT /api/v1/me/work-email {"email": "…"}: it mails
// a confirmation link to that address.
func (s *Server) putWorkEmail(c *gin.Context) {
	var body struct {
		Email string `json:"email"`
	}
	if !decodeJSON(c, &body) {
		return
	}
	user, identity, ok := s.signedInIdentity(c)
	if !ok {
		return
	}
	if err := s.opts.Accounts.RegisterWorkEmail(c.Request.Context(), user, identity, body.Email); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "confirmation_sent", "message": "We sent a confirmation link to that address. Open it while signed in to confirm your work email."})
}

// verifyWorkEmail answers POST /api/v1/me/work-email/verify
// {"token": "…", "take_over": false}.
func (s *Server) verifyWorkEmail(c *gin.Context) {
	var body struct {
		Token    string `json:"token"`
		TakeOver bool   `json:"take_over"`
	}
	if !decodeJSON(c, &body) {
		return
	}
	user, identity, ok := s.signedInIdentity(c)
	if !ok {
		return
	}
	email, err := s.opts.Accounts.VerifyWorkEmail(c.Request.Context(), user, identity, body.Token, body.TakeOver)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "verified", "work_email": email})
}

// mountPermissions registers GET /api/v1/me/permissions, DELETE
// /api/v1/me/permissions/{licence}/{permission}, GET /api/v1/me/inheritance
// and PUT /api/v1/me/inheritance/{mbsa}.
func (s *Server) mountPermissions(v1 gin.IRouter) {
	v1.GET("/me/permissions", func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		list, err := s.opts.Accounts.Permissions(c.Request.Context(), user)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"permissions": list})
	})
	v1.GET("/me/inheritance", func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		list, err := s.opts.Accounts.Inheritance(c.Request.Context(), user)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"mbsas": list})
	})
	v1.PUT("/me/inheritance/:mbsa", func(c *gin.Context) {
		var body struct {
			Inherit *bool `json:"inherit"`
		}
		if !decodeJSON(c, &body) {
			return
		}
		if body.Inherit == nil {
			s.fail(c, models.Invalid("Say whether to inherit.", models.FieldError{Field: "inherit", Message: "true or false"}))
			return
		}
		user, _ := app.UserID(c.Request.Context())
		if err := s.opts.Accounts.SetInheritance(c.Request.Context(), user, c.Param("mbsa"), *body.Inherit); err != nil {
			s.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	v1.DELETE("/me/permissions/:licence/:permission", func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		err := s.opts.Accounts.DropPermission(c.Request.Context(), user, c.Param("licence"), models.Permission(c.Param("permission")))
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
}
