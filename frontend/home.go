package frontend

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/demo"
)

// dashboarder is implemented by account sources that can gather the
// signed-in home page (*app.Accounts).
type dashboarder interface {
	Dashboard(ctx context.Context, user int64) (*app.DashboardView, error)
}

// homeView is the data of the home page.
type homeView struct {
	SignedIn  bool
	Dashboard *app.DashboardView // the signed-in user's tasks; nil when unavailable
	// Status is the state of the service, shown to operators only; nil
	// when unavailable or not theirs to see.
	Status      *models.Status
	StatusError bool
	Database    string         // display name of the database kind
	Personas    []demo.Persona // development mode: the demo people, in the order of the guided tour
	KeyPercent  int
	ExpiryDays  int
}

// home renders the home page. Anonymous visitors read what the service is
// and how to sign in (in development mode, the demo personas and a guided
// tour); signed-in users get their dashboard. The state of the service
// (database, schema, record counts) is for operators only.
func (u *UI) home(c *gin.Context) {
	v := homeView{KeyPercent: app.DashboardKeyPercent, ExpiryDays: app.DashboardExpiringDays}
	if u.dev {
		v.Personas = demo.Personas
	}
	ctx := c.Request.Context()
	user, ok := app.UserID(ctx)
	if !ok || u.accounts == nil {
		u.render(c, http.StatusOK, "home.html", "home", v)
		return
	}
	v.SignedIn = true
	if d, ok := u.accounts.(dashboarder); ok {
		dash, err := d.Dashboard(ctx, user)
		if err != nil {
			u.logger.ErrorContext(ctx, "dashboard unavailable", "err", err)
		}
		v.Dashboard = dash
	}
	if me, err := u.accounts.Summary(ctx, user); err == nil && me.Operator {
		st, err := u.status.Status(ctx)
		if err != nil {
			u.logger.ErrorContext(ctx, "service status unavailable", "err", err)
			v.StatusError = true
		} else {
			v.Status = &st
			v.Database = databaseName(st.Database)
		}
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
