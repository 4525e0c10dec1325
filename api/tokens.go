package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// bearer authenticates a request carrying "Authorization: Bearer <token>"
// as the token's user. A request with a bad token is refused outright, so
// that automation learns at once that its token is wrong.
func (s *Server) bearer(c *gin.Context) {
	h := c.GetHeader("Authorization")
	if h == "" {
		c.Next()
		return
	}
	secret, ok := strings.CutPrefix(h, "Bearer ")
	var user *models.SignedInUser
	err := app.ErrInvalidToken
	if ok {
		user, err = s.opts.Auth.Tokens.Authenticate(c.Request.Context(), strings.TrimSpace(secret))
	}
	if err != nil && !errors.Is(err, app.ErrInvalidToken) {
		WriteError(c, err) // the database failed: not a bad credential
		return
	}
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeProblem(c, Problem{Type: "about:blank", Title: http.StatusText(http.StatusUnauthorized), Status: http.StatusUnauthorized,
			Detail: "The access token is not valid: it is unknown, revoked or expired.", RequestID: RequestID(c)})
		return
	}
	// A token acts as its user, but not as a sign-in identity: it cannot
	// register or confirm a work email, nor make more tokens.
	sess := &app.Session{Record: &models.Session{UserID: &user.ID}, User: user}
	c.Request = c.Request.WithContext(app.WithSession(c.Request.Context(), sess))
	SetLogAttrs(c, "user_id", user.ID, "auth", "token")
	c.Next()
}

// mountTokens registers the token routes on the signed-in /api/v1 group.
func (s *Server) mountTokens(v1 gin.IRouter) {
	t := s.opts.Auth.Tokens
	v1.POST("/tokens", func(c *gin.Context) {
		if _, _, ok := s.signedInIdentity(c); !ok { // sessions only, not tokens
			return
		}
		body := struct {
			Name          string `json:"name"`
			ExpiresInDays int    `json:"expires_in_days"`
		}{ExpiresInDays: 90}
		if !decodeJSON(c, &body) {
			return
		}
		user, _ := app.UserID(c.Request.Context())
		tok, err := t.Create(c.Request.Context(), user, body.Name, time.Duration(body.ExpiresInDays)*24*time.Hour)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusCreated, tok)
	})
	v1.GET("/tokens", func(c *gin.Context) {
		user, _ := app.UserID(c.Request.Context())
		list, err := t.List(c.Request.Context(), user)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"tokens": list})
	})
	v1.DELETE("/tokens/:id", func(c *gin.Context) {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			s.fail(c, models.Errorf(models.CodeNotFound, "No such token."))
			return
		}
		user, _ := app.UserID(c.Request.Context())
		if err := t.Revoke(c.Request.Context(), user, id); err != nil {
			s.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
}
