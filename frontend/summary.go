package frontend

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
)

// SummaryUseCases is what the licence summary page asks of the
// application (*app.Summary).
type SummaryUseCases interface {
	Build(ctx context.Context, user int64, numbers []string) (*app.SummaryView, error)
	Choices(ctx context.Context, user int64) ([]app.SummaryChoice, error)
}

var _ SummaryUseCases = (*app.Summary)(nil)

// MountSummary registers the licence summary page:
//
//	GET /licence-summary[?licence=N…]   choose licences; their summary (view)
//	GET /licence-summary/export.csv?licence=N…
//	GET /licence-summary/export.xlsx?licence=N…
//
// user tells the signed-in user whose work email is confirmed (the
// guard's User); the application checks each licence.
func (u *UI) MountSummary(r gin.IRouter, s SummaryUseCases, user func(*gin.Context) (int64, bool)) {
	h := summaryPage{ui: u, s: s, user: user}
	r.GET("/licence-summary", u.page(h.show))
	r.GET("/licence-summary/export.csv", func(c *gin.Context) { h.export(c, "csv") })
	r.GET("/licence-summary/export.xlsx", func(c *gin.Context) { h.export(c, "xlsx") })
}

type summaryPage struct {
	ui   *UI
	s    SummaryUseCases
	user func(*gin.Context) (int64, bool)
}

// summaryView is the data of licence_summary.html.
type summaryView struct {
	Choices  []summaryChoice
	Selected []string
	Summary  *app.SummaryView
}

type summaryChoice struct {
	app.SummaryChoice
	Selected bool
}

// signedIn returns the active user, or sends them to sign in.
func (h summaryPage) signedIn(c *gin.Context) (int64, bool) {
	if _, _, ok := h.ui.signedIn(c); !ok {
		return 0, false
	}
	user, ok := h.user(c)
	if !ok {
		h.ui.Error(c, http.StatusForbidden, app.ErrConfirmWorkEmail)
	}
	return user, ok
}

func (h summaryPage) fail(c *gin.Context, err error) {
	if errors.Is(err, authz.ErrNoSuchLicence) {
		h.ui.errorPage(c, http.StatusNotFound, "users.no_such_licence")
		return
	}
	h.ui.Error(c, httperr.Status(err), err)
}

func (h summaryPage) show(c *gin.Context) {
	user, ok := h.signedIn(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	choices, err := h.s.Choices(ctx, user)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := summaryView{Selected: c.QueryArray("licence")}
	for _, ch := range choices {
		v.Choices = append(v.Choices, summaryChoice{SummaryChoice: ch, Selected: slices.Contains(v.Selected, ch.Number)})
	}
	if len(v.Selected) > 0 {
		if v.Summary, err = h.s.Build(ctx, user, v.Selected); err != nil {
			h.fail(c, err)
			return
		}
	}
	h.ui.render(c, http.StatusOK, "licence_summary.html", "summary", v)
}

func (h summaryPage) export(c *gin.Context, format string) {
	user, ok := h.signedIn(c)
	if !ok {
		return
	}
	v, err := h.s.Build(c.Request.Context(), user, c.QueryArray("licence"))
	if err != nil {
		h.fail(c, err)
		return
	}
	write, ctype := app.WriteSummaryCSV, "text/csv; charset=utf-8"
	if format == "xlsx" {
		write, ctype = app.WriteSummaryXLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	var buf bytes.Buffer
	if err := write(v, io.Writer(&buf)); err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="openlsc-licence-summary.`+format+`"`)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, ctype, buf.Bytes())
}
