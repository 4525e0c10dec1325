package authz

import (
	"context"
	"errors"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/models"
)

// LicenceResolver finds a licence (agreement) id by its number.
type LicenceResolver interface {
	AgreementID(ctx context.Context, number string) (int64, error)
}

// Guard builds gin middleware for licence-scoped routes.
type Guard struct {
	Authorizer *Authorizer
	Licences   LicenceResolver
	// User returns the signed-in user of the request, if any. When it
	// cannot tell (the database failed), it reports false after recording
	// the error with UserFailed, and the guard answers with that error.
	User func(c *gin.Context) (int64, bool)
	// Fail answers the request with err (problem+json or a page).
	Fail func(c *gin.Context, err error)
}

// ErrNoSuchLicence is the one answer for a licence that does not exist and
// one the user may not act on, so that nobody can probe which exist.
var ErrNoSuchLicence = models.New(models.CodeNotFound, "err.licence.not_found", "There is no such licence, or you have no access to it.")

const (
	keyLicence = "openlsc.licence"
	keyUserErr = "openlsc.guard.user_error"
)

// UserFailed records, from a Guard's User function, that the request's user
// could not be looked up because of err (such as an unavailable database),
// so that the request is answered with err and not as signed out.
func UserFailed(c *gin.Context, err error) { c.Set(keyUserErr, err) }

// UserError returns the error recorded by UserFailed for this request, if any.
func UserError(c *gin.Context) error {
	err, _ := c.Value(keyUserErr).(error)
	return err
}

// Require lets a request through when its user may do action on the licence
// whose number is in the route parameter param; the handler then finds the
// licence id with LicenceID. Anything else is answered with ErrNoSuchLicence.
func (g Guard) Require(action Action, param string) gin.HandlerFunc {
	return func(c *gin.Context) {
		user, ok := g.User(c)
		if !ok {
			err := UserError(c)
			if err == nil {
				err = models.New(models.CodeForbidden, "err.sign_in_first", "Sign in first.")
			}
			g.Fail(c, err)
			c.Abort()
			return
		}
		id, err := g.Licences.AgreementID(c.Request.Context(), c.Param(param))
		if err != nil && !errors.Is(err, ErrNoSuchLicence) && models.ErrorCode(err) != models.CodeNotFound {
			g.Fail(c, err)
			c.Abort()
			return
		}
		if err != nil || !g.Authorizer.Can(user, id, action) {
			g.Fail(c, ErrNoSuchLicence)
			c.Abort()
			return
		}
		c.Set(keyLicence, id)
		c.Next()
	}
}

// LicenceID returns the licence id that Require checked for this request.
func LicenceID(c *gin.Context) int64 { return c.GetInt64(keyLicence) }
