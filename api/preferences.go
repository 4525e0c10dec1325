package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/app"
)

// putPreferences answers PUT /api/v1/me/preferences {"language": "ja"}:
// the language the user's mail is written in ("en" or "ja").
func (s *Server) putPreferences(c *gin.Context) {
	var body struct {
		Language string `json:"language"`
	}
	if !decodeJSON(c, &body) {
		return
	}
	user, _ := app.UserID(c.Request.Context())
	if err := s.opts.Accounts.SetLanguage(c.Request.Context(), user, body.Language); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"language": body.Language})
}
