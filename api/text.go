package api

import (
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/models"
)

// refuseBadText applies the free-text rule (models/text.go) to every query
// value and every URL-encoded form value of a request before any handler
// reads them, answering invalid input through fail. JSON bodies are checked
// where they are decoded (decodeJSON); multipart bodies (the import upload)
// are left to their handler, which limits their size first.
func refuseBadText(fail func(c *gin.Context, err error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.URL.RawQuery != "" { // most requests have none to parse
			if err := models.CheckValues(c.Request.URL.Query()); err != nil {
				fail(c, err)
				c.Abort()
				return
			}
		}
		if isURLEncodedForm(c.Request) && c.Request.ParseForm() == nil {
			if err := models.CheckValues(c.Request.PostForm); err != nil {
				fail(c, err)
				c.Abort()
				return
			}
		}
		c.Next()
	}
}

func isURLEncodedForm(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return false
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && ct == "application/x-www-form-urlencoded"
}
