package frontend

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/models"
)

// homeView is the data of the home page.
type homeView struct {
	Status   *models.Status // nil when the status is unavailable
	Database string         // display name of the database kind
}

// home renders the home page: what OpenLSC is and the state of the service.
// A failing status source is logged and shown as a notice; the page still
// renders.
func (u *UI) home(c *gin.Context) {
	var v homeView
	st, err := u.status.Status(c.Request.Context())
	if err != nil {
		u.logger.ErrorContext(c.Request.Context(), "service status unavailable", "err", err)
	} else {
		v.Status = &st
		v.Database = databaseName(st.Database)
	}
	u.render(c, http.StatusOK, "home.html", "home", v)
}

// databaseName returns the display name of a database kind.
func databaseName(kind string) string {
	switch kind {
	case "sqlite":
		return "SQLite"
	case "postgres":
		return "PostgreSQL"
	}
	return kind
}
