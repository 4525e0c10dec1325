// Package httperr maps OpenLSC's error vocabulary (models.Code) to HTTP
// statuses, once, for both the JSON API and the web pages. It lives apart
// from models so that the persistence layer knows nothing of HTTP, and
// apart from api so that the pages need not import the API to answer.
package httperr

import (
	"errors"
	"net/http"
	"strconv"

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
