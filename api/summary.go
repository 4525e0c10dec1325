package api

import (
	"bytes"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
)

// MountSummary registers the licence summary routes on v1, normally the
// /api/v1 group:
//
//	GET /licences/{licence}/summary[?also=N…]       quantities and SA status from the orders (view)
//	GET /licences/{licence}/summary.csv[?also=N…]   the same as CSV
//	GET /licences/{licence}/summary.xlsx[?also=N…]  the same as a spreadsheet
//
// also adds more licences to the summary; each must be one the user may
// view, or the answer is the one for a licence that does not exist.
func MountSummary(v1 gin.IRouter, s *app.Summary, guard authz.Guard) {
	if guard.Fail == nil {
		guard.Fail = WriteError
	}
	h := summaryHandler{s: s, guard: guard}
	g := v1.Group("/licences/:licence", guard.Require(authz.ActView, "licence"))
	g.GET("/summary", h.json)
	g.GET("/summary.csv", h.csv)
	g.GET("/summary.xlsx", h.xlsx)
}

type summaryHandler struct {
	s     *app.Summary
	guard authz.Guard
}

// build returns the summary the request asks for, or answers.
func (h summaryHandler) build(c *gin.Context) (*app.SummaryView, bool) {
	user, _ := h.guard.User(c)
	numbers := append([]string{c.Param("licence")}, c.QueryArray("also")...)
	v, err := h.s.Build(c.Request.Context(), user, numbers)
	if err != nil {
		h.guard.Fail(c, err)
		return nil, false
	}
	c.Header("Cache-Control", "no-store")
	return v, true
}

func (h summaryHandler) json(c *gin.Context) {
	if v, ok := h.build(c); ok {
		c.JSON(http.StatusOK, v)
	}
}

func (h summaryHandler) csv(c *gin.Context) {
	v, ok := h.build(c)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := app.WriteSummaryCSV(v, &buf); err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="openlsc-licence-summary.csv"`)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// XLSXType is the media type of a spreadsheet.
const XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func (h summaryHandler) xlsx(c *gin.Context) {
	v, ok := h.build(c)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := app.WriteSummaryXLSX(v, &buf); err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="openlsc-licence-summary.xlsx"`)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, XLSXType, buf.Bytes())
}
