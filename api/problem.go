package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// Problem is an RFC 9457 problem detail, the body of every API error.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Errors    []models.FieldError `json:"errors,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
}

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

// WriteError answers with err as application/problem+json. Internal errors
// are logged with the request id and answered with a generic message.
func WriteError(c *gin.Context, err error) {
	code := models.ErrorCode(err)
	status := StatusOf(code)
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    models.ErrorMessage(err),
		RequestID: RequestID(c),
	}
	var e *models.Error
	if errors.As(err, &e) && code != models.CodeInternal {
		p.Errors = e.Fields
	}
	if errors.Is(err, app.ErrRequestFailed) {
		// Every cause of a failed access request gets the same bytes.
		p.RequestID = ""
	}
	switch {
	case code == models.CodeUnavailable:
		SetRetryAfter(c)
		LogUnavailable(c, loggerFrom(c), err)
	case status >= 500:
		loggerFrom(c).ErrorContext(c.Request.Context(), "request failed", slog.Any("error", err))
	}
	writeProblem(c, p)
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
	burst, _ := f.(*faultLog)
	first, repeats := burst.seen(time.Now())
	level := slog.LevelDebug
	if first {
		level = slog.LevelError
	}
	logger.Log(c.Request.Context(), level, "database unavailable", slog.Any("error", err), slog.Int("repeats_before", repeats))
}

// faultQuiet is how long without a fault ends a burst of them.
const faultQuiet = 30 * time.Second

// faultLog tells the first fault of a burst from the rest. A nil
// *faultLog calls every fault the first.
type faultLog struct {
	mu      sync.Mutex
	last    time.Time // when the last fault was seen
	repeats int       // faults since the last one logged at ERROR
}

// seen records a fault at now and reports whether it starts a burst, with
// the number of faults of the previous burst that were not logged at ERROR.
func (f *faultLog) seen(now time.Time) (first bool, repeats int) {
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

func writeProblem(c *gin.Context, p Problem) {
	c.Header("Cache-Control", "no-store")
	c.Render(p.Status, problemRender{p})
	c.Abort()
}

// problemRender writes a Problem with the problem+json content type.
type problemRender struct{ p Problem }

func (r problemRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return jsonRender(w, r.p)
}

func (problemRender) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/problem+json")
}
