package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// AuditLog is what the audit page asks of the application (*app.Audit).
type AuditLog interface {
	List(ctx context.Context, viewer int64, f app.AuditFilter) (app.AuditPage, error)
}

var _ AuditLog = (*app.Audit)(nil)

// MountAudit registers GET /audit: the audit log the signed-in user may
// read (operators everything, administrators their licences' events), with
// a filter form, a link to the next page and a CSV download from
// /api/v1/audit with the same filters.
func (u *UI) MountAudit(r gin.IRouter, audit AuditLog) {
	h := auditPage{ui: u, audit: audit}
	r.GET("/audit", u.page(h.show))
}

type auditPage struct {
	ui    *UI
	audit AuditLog
}

// auditView is the data of audit.html.
type auditView struct {
	// The filters as given, echoed into the form.
	Licence, Kind, From, To, ActorID string
	Errors                           []models.FieldError
	NotActive                        bool // the work email is not confirmed
	Events                           []auditRow
	NextURL                          string
	CSVURL                           string
}

// Invalid reports whether the filter field is in error.
func (v auditView) Invalid(field string) bool {
	return slices.ContainsFunc(v.Errors, func(e models.FieldError) bool { return e.Field == field })
}

// OtherInvalid reports whether a parameter the form does not show (such
// as the page cursor of a link) is in error.
func (v auditView) OtherInvalid() bool {
	return slices.ContainsFunc(v.Errors, func(e models.FieldError) bool {
		return !slices.Contains([]string{"licence", "kind", "from", "to"}, e.Field)
	})
}

// auditRow is one event, its details as short key=value text.
type auditRow struct {
	app.AuditEventView
	DetailsText string
}

// auditFilterParams are the query parameters carried to the next page and
// the CSV download.
var auditFilterParams = []string{"licence", "actor_id", "kind", "from", "to"}

func (h auditPage) show(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	q := c.Request.URL.Query()
	v := auditView{
		Licence: q.Get("licence"), Kind: q.Get("kind"), From: q.Get("from"), To: q.Get("to"), ActorID: q.Get("actor_id"),
	}
	filters := url.Values{}
	for _, p := range auditFilterParams {
		if s := strings.TrimSpace(q.Get(p)); s != "" {
			filters.Set(p, s)
		}
	}
	csvQuery := url.Values{"format": {"csv"}}
	for k, vs := range filters {
		csvQuery[k] = vs
	}
	v.CSVURL = "/api/v1/audit?" + csvQuery.Encode()

	f, err := app.ParseAuditFilter(q)
	var page app.AuditPage
	if err == nil {
		page, err = h.audit.List(c.Request.Context(), user, f)
	}
	var e *models.Error
	switch {
	case errors.Is(err, app.ErrConfirmWorkEmail):
		v.NotActive = true
		h.ui.render(c, http.StatusForbidden, "audit.html", "audit", v)
		return
	case errors.As(err, &e) && e.Code == models.CodeInvalid:
		v.Errors = e.Fields
		h.ui.render(c, http.StatusUnprocessableEntity, "audit.html", "audit", v)
		return
	case err != nil:
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	for _, ev := range page.Events {
		v.Events = append(v.Events, auditRow{AuditEventView: ev, DetailsText: detailsText(ev.Details)})
	}
	if page.Next != "" {
		next := url.Values{"cursor": {page.Next}}
		for k, vs := range filters {
			next[k] = vs
		}
		if f.Limit != 0 {
			next.Set("limit", fmt.Sprint(f.Limit))
		}
		v.NextURL = "/audit?" + next.Encode()
	}
	h.ui.render(c, http.StatusOK, "audit.html", "audit", v)
}

// detailsText writes an event's details as "key=value" pairs, sorted by
// key; values other than strings and numbers as compact JSON.
func detailsText(d map[string]any) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		switch x := d[k].(type) {
		case string:
			b.WriteString(x)
		case json.Number:
			b.WriteString(x.String())
		default:
			j, err := json.Marshal(x)
			if err != nil {
				fmt.Fprint(&b, x)
				continue
			}
			b.Write(j)
		}
	}
	return b.String()
}
