// Package httperr maps OpenLSC's error vocabulary (models.Code) to HTTP
// statuses, once, for both the JSON API and the web pages. It lives apart
// from models so that the persistence layer knows nothing of HTTP, and
// apart from api so that the pages need not import the API to answer.
package httperr

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/models"
)

// StatusOf maps an error code to its HTTP status.
func StatusOf(code models.Code) int {
	switch code {
	case models.CodeInvalid:
		return http.StatusUnprocessableEntity
	case models.CodeNotFound:
		return http.StatusNotFound
	case models.CodeConflict:
		return http.StatusConflict
	case models.CodeForbidden:
		return http.StatusForbidden
	case models.CodeTooMany:
		return http.StatusTooManyRequests
	case models.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Status is the HTTP status for err: 413 for a request body over its
// limit, else the status of its code (500 for an error outside the
// vocabulary).
func Status(err error) int {
	if TooLarge(err) {
		return http.StatusRequestEntityTooLarge
	}
	return StatusOf(models.ErrorCode(err))
}

// TooLarge reports whether err is a request body going over its limit.
func TooLarge(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.As(err, &tooBig)
}

// Message is the client-facing text for err: the vocabulary's message, or
// for a body over its limit the limit.
func Message(err error) string {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return "The request body is too large for this route: it takes at most " + size(tooBig.Limit) + "."
	}
	return models.ErrorMessage(err)
}

func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// RetryAfter is the Retry-After of a 503 answer, in seconds.
const RetryAfter = 5

// SetRetryAfter tells the client of a 503 answer when to try again.
func SetRetryAfter(c *gin.Context) {
	c.Header("Retry-After", strconv.Itoa(RetryAfter))
}

// LogUnavailable logs a database fault (CodeUnavailable) behind a request:
// at ERROR for the first of a burst, at DEBUG for the rest of it, so that
// an outage is one line rather than one per request.
func LogUnavailable(c *gin.Context, logger *slog.Logger, err error) {
	f, _ := c.Get(keyFaults)
	burst, _ := f.(*FaultLog)
	first, repeats := burst.seen(time.Now())
	level := slog.LevelDebug
	if first {
		level = slog.LevelError
	}
	logger.Log(c.Request.Context(), level, "database unavailable", slog.Any("error", err), slog.Int("repeats_before", repeats))
}

// faultQuiet is how long without a fault ends a burst of them.
const faultQuiet = 30 * time.Second

// FaultLog tells the first fault of a burst from the rest. A nil
// *FaultLog calls every fault the first.
type FaultLog struct {
	mu      sync.Mutex
	last    time.Time // when the last fault was seen
	repeats int       // faults since the last one logged at ERROR
}

// seen records a fault at now and reports whether it starts a burst, with
// the number of faults of the previous burst that were not logged at ERROR.
func (f *FaultLog) seen(now time.Time) (first bool, repeats int) {
	if f == nil {
		return true, 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	first = f.last.IsZero() || now.Sub(f.last) > faultQuiet
	f.last = now
	if first {
		repeats, f.repeats = f.repeats, 0
		return true, repeats
	}
	f.repeats++
	return false, f.repeats
}

// keyFaults keys the server's FaultLog in a request's gin context.
const keyFaults = "openlsc.faults"

// TrackFaults is middleware that makes f the fault log of every request,
// so that LogUnavailable can tell the first fault of a burst.
func TrackFaults(f *FaultLog) gin.HandlerFunc {
	return func(c *gin.Context) { c.Set(keyFaults, f) }
}
