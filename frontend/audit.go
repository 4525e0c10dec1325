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
	Kinds                            []kindOption
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
	Details     []auditDetail // the details, named in the page's language where known
	ActorName   string        // the acting user's name and email, when known
	ActorLabel  string        // message ID naming a non-user actor ("system", "cli"); "" otherwise
	KindID      string        // message ID of the kind's name; "" for a kind without one
}

// actorNamer names the users who acted (*app.Audit).
type actorNamer interface {
	ActorNames(ctx context.Context, ids []int64) (map[int64]string, error)
}

// auditKinds are the event kinds the filter offers, each named by the
// message audit.kind.<kind>.
var auditKinds = []string{
	"grant", "revoke", "inheritance",
	"access_request.created", "access_request.failed", "access_request.approved", "access_request.denied",
	"access_request.cancelled", "access_request.expired",
	"invitation.created", "invitation.resent", "invitation.accepted",
	"key.reveal", "key.export", "activation.requested", "activation.approved", "activation.denied", "activation.counts",
	"download", "import", "token.created", "token.revoked",
	"work_email.registered", "work_email.verified", "work_email.taken_over", "user.dormant",
}

// kindOption is one choice of the kind filter.
type kindOption struct {
	Value, ID string // the kind, and its message ID ("" for an unknown kind)
}

// kindOptions lists the kind filter's choices; a kind in the URL that is
// not a known one is kept as a choice of its own.
func kindOptions(current string) []kindOption {
	out := make([]kindOption, 0, len(auditKinds)+1)
	for _, k := range auditKinds {
		out = append(out, kindOption{Value: k, ID: "audit.kind." + k})
	}
	if current != "" && !slices.Contains(auditKinds, current) {
		out = append(out, kindOption{Value: current})
	}
	return out
}

// kindID returns the message ID naming kind, or "".
func kindID(kind string) string {
	if slices.Contains(auditKinds, kind) {
		return "audit.kind." + kind
	}
	return ""
}

// auditRows makes the table rows of events, naming the actors.
func (h auditPage) auditRows(ctx context.Context, events []app.AuditEventView) []auditRow {
	names := map[int64]string{}
	if n, ok := h.audit.(actorNamer); ok {
		var ids []int64
		for _, ev := range events {
			if ev.ActorID != nil && !slices.Contains(ids, *ev.ActorID) {
				ids = append(ids, *ev.ActorID)
			}
		}
		if got, err := n.ActorNames(ctx, ids); err == nil {
			names = got
		} else {
			h.ui.logger.WarnContext(ctx, "actor names unavailable", "err", err)
		}
	}
	rows := make([]auditRow, 0, len(events))
	for _, ev := range events {
		r := auditRow{AuditEventView: ev, DetailsText: detailsText(ev.Details), Details: auditDetails(ev.Details), KindID: kindID(ev.Kind)}
		if ev.ActorID != nil {
			r.ActorName = names[*ev.ActorID]
		} else if ev.Actor == "system" || ev.Actor == "cli" {
			r.ActorLabel = "audit.actor." + ev.Actor
		}
		rows = append(rows, r)
	}
	return rows
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
		Kinds: kindOptions(strings.TrimSpace(q.Get("kind"))),
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
	v.Events = h.auditRows(c.Request.Context(), page.Events)
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
