package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api/limits"
	"github.com/openlsc/openlsc/app"
)

// rateLimit refuses with 429 and Retry-After a request over l's limit for
// its client address or, when signed in, its account. The web forms that
// do the same thing draw on the same limiter.
func (s *Server) rateLimit(l *limits.Limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		user, signedIn := app.UserID(c.Request.Context())
		if ok, wait := l.Allow(limits.Keys(c, user, signedIn)...); !ok {
			limits.RetryAfter(c, wait)
			writeProblem(c, Problem{Type: "about:blank", Title: http.StatusText(http.StatusTooManyRequests),
				Status: http.StatusTooManyRequests, Code: "err.rate_limited", Detail: "Too many attempts. Wait a while and try again.", RequestID: RequestID(c)})
			return
		}
		c.Next()
	}
}
