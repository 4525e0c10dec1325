package httperr

import (
	"errors"
	"math"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/models"
)

// SetRetryUntil sets Retry-After to the seconds until err's refusal ends
// (models.Error.RetryAfter, such as the rest of a lockout), rounded up. It
// reports whether err says so.
func SetRetryUntil(c *gin.Context, err error) bool {
	var e *models.Error
	if !errors.As(err, &e) || e.RetryAfter <= 0 {
		return false
	}
	secs := max(1, int64(math.Ceil(e.RetryAfter.Seconds())))
	c.Header("Retry-After", strconv.FormatInt(secs, 10))
	return true
}
