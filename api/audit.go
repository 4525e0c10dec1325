package api

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// ActiveFunc reports whether a user's work email is confirmed
// (app.Accounts.Active).
type ActiveFunc func(ctx context.Context, user int64) (bool, error)

// MountAudit registers GET /audit on r, normally the /api/v1 group:
//
//	GET /api/v1/audit?licence=&actor_id=&kind=&from=&to=&cursor=&limit=&format=csv
//
// It answers one page of the audit events the signed-in user may read as
// JSON ({"events": […], "next": "…"}), or with format=csv every matching
// event as a CSV attachment. It checks the session itself (401 when signed
// out), so r need not be behind requireUser, and answers 403 until the
// user's work email is confirmed, as active reports.
func MountAudit(r gin.IRouter, audit *app.Audit, active ActiveFunc) {
	h := auditHandler{audit: audit, active: active}
	r.GET("/audit", h.get)
}

type auditHandler struct {
	audit  *app.Audit
	active ActiveFunc
}

func (h auditHandler) get(c *gin.Context) {
	ctx := c.Request.Context()
	user, ok := app.UserID(ctx)
	if !ok {
		writeProblem(c, Problem{Type: "about:blank", Title: http.StatusText(http.StatusUnauthorized),
			Status: http.StatusUnauthorized, Detail: "Sign in first.", RequestID: RequestID(c)})
		return
	}
	if h.active != nil {
		ok, err := h.active(ctx, user)
		if err != nil {
			WriteError(c, err)
			return
		}
		if !ok {
			WriteError(c, app.ErrConfirmWorkEmail)
			return
		}
	}
	q := c.Request.URL.Query()
	f, err := app.ParseAuditFilter(q)
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		fe := models.FieldError{Field: "format", Message: `Choose "json" or "csv".`}
		var e *models.Error
		if errors.As(err, &e) {
			err = models.Invalid(e.Message, append(slices.Clone(e.Fields), fe)...)
		} else {
			err = models.Invalid("Some filters of the audit log are not valid.", fe)
		}
	}
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if format == "csv" {
		h.csv(c, user, f)
		return
	}
	page, err := h.audit.List(ctx, user, f)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

// csv streams the export. Errors before the first byte are answered as
// problems; later ones can only cut the download short (and are logged).
func (h auditHandler) csv(c *gin.Context, user int64, f app.AuditFilter) {
	w := &lazyCSV{c: c}
	err := h.audit.WriteCSV(c.Request.Context(), user, f, w)
	switch {
	case err != nil && !w.started:
		WriteError(c, err)
	case err != nil:
		loggerFrom(c).ErrorContext(c.Request.Context(), "audit export failed", "error", err)
		c.Abort()
	case !w.started:
		w.start()
	}
}

// lazyCSV writes the CSV headers with the first byte of the body, so that
// an error before it can still be answered as a problem.
type lazyCSV struct {
	c       *gin.Context
	started bool
}

func (w *lazyCSV) start() {
	h := w.c.Writer.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="openlsc-audit.csv"`)
	h.Set("X-Content-Type-Options", "nosniff")
	w.c.Status(http.StatusOK)
	w.c.Writer.WriteHeaderNow()
	w.started = true
}

func (w *lazyCSV) Write(p []byte) (int, error) {
	if !w.started {
		w.start()
	}
	n, err := w.c.Writer.Write(p)
	w.c.Writer.Flush()
	return n, err
}
