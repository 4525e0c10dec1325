package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// Problem is an RFC 9457 problem detail, the body of every API error.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Code      string              `json:"code"`
	Errors    []models.FieldError `json:"errors,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
}

// StatusOf maps an error code to its HTTP status (see httperr, where the
// mapping lives).
func StatusOf(code models.Code) int { return httperr.StatusOf(code) }

// WriteError answers with err as application/problem+json. Internal errors
// are logged with the request id and answered with a generic message.
func WriteError(c *gin.Context, err error) {
	code := models.ErrorCode(err)
	status := httperr.Status(err)
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    httperr.Message(err),
		RequestID: RequestID(c),
	}
	p.Code = string(code)
	var e *models.Error
	if errors.As(err, &e) && code != models.CodeInternal {
		p.Errors = e.Fields
		if e.Key != "" {
			p.Code = e.Key
		}
	}
	if errors.Is(err, app.ErrRequestFailed) {
		// Every cause of a failed access request gets the same bytes.
		p.RequestID = ""
	}
	switch {
	case httperr.SetRetryUntil(c, err):
	case code == models.CodeUnavailable:
		httperr.SetRetryAfter(c)
		httperr.LogUnavailable(c, loggerFrom(c), err)
	case status >= 500:
		loggerFrom(c).ErrorContext(c.Request.Context(), "request failed", slog.Any("error", err))
	}
	writeProblem(c, p)
}

func writeProblem(c *gin.Context, p Problem) {
	if p.Code == "" {
		p.Code = statusCode(p.Status)
	}
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

// statusCode is the code of a problem written without one, from its status.
func statusCode(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusTooManyRequests:
		return string(models.CodeTooMany)
	case http.StatusServiceUnavailable:
		return string(models.CodeUnavailable)
	case http.StatusNotFound:
		return string(models.CodeNotFound)
	}
	if status >= 500 {
		return string(models.CodeInternal)
	}
	return string(models.CodeInvalid)
}
