package httperr

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/models"
)

// SetRetryUntil sets Retry-After to the seconds left until err's refusal
// ends (models.Error.Until, such as the end of a lockout), rounded up. It
// reports whether err names such a time.
func SetRetryUntil(c *gin.Context, err error, now time.Time) bool {
	var e *models.Error
	if !errors.As(err, &e) || e.Until.IsZero() {
		return false
	}
	secs := max(1, int64(math.Ceil(e.Until.Sub(now).Seconds())))
	c.Header("Retry-After", strconv.FormatInt(secs, 10))
	return true
}
