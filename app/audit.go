package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// Page sizes of the audit log.
const (
	AuditDefaultLimit = 50
	AuditMaxLimit     = 500
)

// ErrConfirmWorkEmail answers users whose work email is not (or no longer)
// confirmed: they see no licence, and so no audit event.
var ErrConfirmWorkEmail = models.New(models.CodeForbidden, "err.verify_first", "Confirm your work email first.")

// Audit reads the audit log: operators read every event, administrators
// the events of the licences they administer.
type Audit struct {
	store *models.Store
	authz *authz.Authorizer
}

// NewAudit returns the audit log reader.
func NewAudit(store *models.Store, az *authz.Authorizer) *Audit {
	return &Audit{store: store, authz: az}
}

// AuditFilter selects audit events. Empty fields select everything.
type AuditFilter struct {
	Licence string     // agreement number
	ActorID *int64     // the user who acted
	Kind    string     // event kind, such as "grant"
	From    *time.Time // inclusive
	To      *time.Time // exclusive
	Cursor  string     // AuditPage.Next of the previous page; empty for the first
	Limit   int        // events per page: AuditDefaultLimit when 0, at most AuditMaxLimit
}

// AuditEventView is one audit event as its readers see it.
type AuditEventView struct {
	ID         int64          `json:"id"`
	Time       time.Time      `json:"time"`
	Actor      string         `json:"actor"`
	ActorID    *int64         `json:"actor_id,omitempty"`
	Kind       string         `json:"kind"`
	Licence    string         `json:"licence,omitempty"` // agreement number
	SourceAddr string         `json:"source_addr,omitempty"`
	Details    map[string]any `json:"details"`
}

// AuditPage is one page of events, newest first.
type AuditPage struct {
	Events []AuditEventView `json:"events"`
	// Next is the cursor of the following page; empty on the last one.
	Next string `json:"next,omitempty"`
}

// ParseAuditFilter reads a filter from query parameters: licence,
// actor_id, kind, from, to (RFC 3339, or YYYY-MM-DD: from the start of
// that day, to its end, in UTC), cursor and limit. Every bad parameter is
// reported as a field of one invalid-input error.
func ParseAuditFilter(q url.Values) (AuditFilter, error) {
	var f AuditFilter
	var bad []models.FieldError
	field := func(name, msg string) { bad = append(bad, models.FieldError{Field: name, Message: msg}) }
	f.Licence = strings.TrimSpace(q.Get("licence"))
	if len(f.Licence) > 64 {
		field("licence", "A licence number has at most 64 characters.")
	}
	if v := strings.TrimSpace(q.Get("actor_id")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			field("actor_id", "Give a user id: a positive whole number.")
		} else {
			f.ActorID = &id
		}
	}
	f.Kind = strings.TrimSpace(q.Get("kind"))
	if len(f.Kind) > 64 {
		field("kind", "An event kind has at most 64 characters.")
	}
	for _, p := range []struct {
		name string
		dst  **time.Time
		end  bool
	}{{"from", &f.From, false}, {"to", &f.To, true}} {
		v := strings.TrimSpace(q.Get(p.name))
		if v == "" {
			continue
		}
		t, err := parseAuditTime(v, p.end)
		if err != nil {
			field(p.name, "Give a date as YYYY-MM-DD or a time as RFC 3339, such as 2026-03-14T09:30:00Z.")
			continue
		}
		*p.dst = &t
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		field("to", "The end must come after the start.")
	}
	f.Cursor = strings.TrimSpace(q.Get("cursor"))
	if f.Cursor != "" {
		if _, err := decodeAuditCursor(f.Cursor); err != nil {
			field("cursor", "This cursor is not one this service gave out.")
		}
	}
	if v := strings.TrimSpace(q.Get("limit")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > AuditMaxLimit {
			field("limit", "Give a number from 1 to "+strconv.Itoa(AuditMaxLimit)+".")
		} else {
			f.Limit = n
		}
	}
	if len(bad) > 0 {
		return f, models.Invalid("Some filters of the audit log are not valid.", bad...)
	}
	return f, nil
}

// parseAuditTime reads an RFC 3339 time or a date; a date that ends a
// range stands for the end of that day (the start of the next, exclusive).
func parseAuditTime(v string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, err
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

func encodeAuditCursor(ev models.AuditEvent) string {
	raw := ev.OccurredAt.UTC().Format(time.RFC3339Nano) + "|" + strconv.FormatInt(ev.ID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

var errBadCursor = models.Invalid("Some filters of the audit log are not valid.",
	models.FieldError{Field: "cursor", Message: "This cursor is not one this service gave out."})

// decodeAuditCursor returns the position a cursor stands for: the last
// event of the page before.
func decodeAuditCursor(s string) (*models.AuditPosition, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errBadCursor
	}
	at, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return nil, errBadCursor
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return nil, errBadCursor
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, errBadCursor
	}
	return &models.AuditPosition{At: t.UTC(), ID: n}, nil
}

// auditScope is which licences' events a viewer reads.
type auditScope struct {
	all bool    // every event, with or without a licence
	ids []int64 // else only these licences' events (none when empty)
}

// scope decides what viewer may read under f: everything for operators,
// else the licences they administer (directly, through contact data or by
// inheritance). A licence filter naming a licence the viewer does not
// administer gives the same empty scope as one naming no licence at all.
func (a *Audit) scope(ctx context.Context, viewer int64, f AuditFilter) (auditScope, error) {
	u, err := a.store.User(ctx, viewer)
	if err != nil {
		return auditScope{}, err
	}
	if u.WorkEmailVerifiedAt == nil {
		return auditScope{}, ErrConfirmWorkEmail
	}
	var licence int64
	if f.Licence != "" {
		licence, err = a.store.AgreementID(ctx, f.Licence)
		if models.ErrorCode(err) == models.CodeNotFound {
			return auditScope{}, nil
		}
		if err != nil {
			return auditScope{}, err
		}
	}
	if a.authz.IsOperator(viewer) {
		if licence != 0 {
			return auditScope{ids: []int64{licence}}, nil
		}
		return auditScope{all: true}, nil
	}
	if licence != 0 {
		if a.authz.Can(viewer, licence, authz.ActManage) {
			return auditScope{ids: []int64{licence}}, nil
		}
		return auditScope{}, nil
	}
	var sc auditScope
	for _, l := range a.authz.Licences(viewer) {
		if slices.Contains(l.Permissions, models.PermAdministrator) {
			sc.ids = append(sc.ids, l.AgreementID)
		}
	}
	return sc, nil
}

// empty reports whether the scope selects no event.
func (sc auditScope) empty() bool { return !sc.all && len(sc.ids) == 0 }

// fetch returns up to limit events of the scope matching f, newest first,
// after the cursor position.
func (a *Audit) fetch(ctx context.Context, sc auditScope, f AuditFilter, after *models.AuditPosition, limit int) ([]models.AuditEvent, error) {
	return a.store.AuditEvents(ctx, models.AuditQuery{
		All: sc.all, Licences: sc.ids, ActorID: f.ActorID, Kind: f.Kind, From: f.From, To: f.To,
		After: after, Limit: limit,
	})
}

// List returns one page of the audit events viewer may read that match f,
// newest first. Operators read every event; everyone else only events on
// licences they administer, never events without a licence (imports,
// sign-ins). A licence the viewer does not administer, or that does not
// exist, gives an empty page.
func (a *Audit) List(ctx context.Context, viewer int64, f AuditFilter) (AuditPage, error) {
	page := AuditPage{Events: []AuditEventView{}}
	var after *models.AuditPosition
	if f.Cursor != "" {
		c, err := decodeAuditCursor(f.Cursor)
		if err != nil {
			return page, err
		}
		after = c
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = AuditDefaultLimit
	case limit > AuditMaxLimit:
		limit = AuditMaxLimit
	}
	sc, err := a.scope(ctx, viewer, f)
	if err != nil || sc.empty() {
		return page, err
	}
	evs, err := a.fetch(ctx, sc, f, after, limit+1)
	if err != nil {
		return page, err
	}
	if len(evs) > limit {
		evs = evs[:limit]
		page.Next = encodeAuditCursor(evs[limit-1])
	}
	numbers, err := a.numbers(ctx, evs)
	if err != nil {
		return page, err
	}
	for _, ev := range evs {
		page.Events = append(page.Events, auditView(ev, numbers))
	}
	return page, nil
}

// numbers returns the agreement numbers of the events' licences, by id.
func (a *Audit) numbers(ctx context.Context, evs []models.AuditEvent) (map[int64]string, error) {
	var ids []int64
	for _, ev := range evs {
		if ev.AgreementID != nil && !slices.Contains(ids, *ev.AgreementID) {
			ids = append(ids, *ev.AgreementID)
		}
	}
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ags, err := a.store.AgreementsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, ag := range ags {
		out[id] = ag.Number
	}
	return out, nil
}

func auditView(ev models.AuditEvent, numbers map[int64]string) AuditEventView {
	v := AuditEventView{
		ID: ev.ID, Time: ev.OccurredAt.UTC(), Actor: ev.Actor, ActorID: ev.ActorID, Kind: ev.Kind,
		SourceAddr: ev.SourceAddr, Details: map[string]any{},
	}
	if ev.AgreementID != nil {
		v.Licence = numbers[*ev.AgreementID]
	}
	dec := json.NewDecoder(strings.NewReader(ev.Details))
	dec.UseNumber() // ids stay exact
	if err := dec.Decode(&v.Details); err != nil || v.Details == nil {
		v.Details = map[string]any{"raw": ev.Details}
	}
	return v
}

// auditCSVHeader is the first row of the CSV export.
var auditCSVHeader = []string{"time", "actor", "actor_id", "kind", "licence", "source_addr", "details"}

// WriteCSV writes every audit event viewer may read that matches f (its
// Cursor and Limit aside), newest first, as CSV with a header row. Cells
// that a spreadsheet would take for a formula are prefixed with a single
// quote. Nothing is written when viewer may not read the log at all.
func (a *Audit) WriteCSV(ctx context.Context, viewer int64, f AuditFilter, w io.Writer) error {
	sc, err := a.scope(ctx, viewer, f)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(auditCSVHeader); err != nil {
		return err
	}
	var after *models.AuditPosition
	for !sc.empty() {
		evs, err := a.fetch(ctx, sc, f, after, AuditMaxLimit)
		if err != nil {
			return err
		}
		numbers, err := a.numbers(ctx, evs)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			row := []string{ev.OccurredAt.UTC().Format(time.RFC3339Nano), ev.Actor, "", ev.Kind, "", ev.SourceAddr, compactJSON(ev.Details)}
			if ev.ActorID != nil {
				row[2] = strconv.FormatInt(*ev.ActorID, 10)
			}
			if ev.AgreementID != nil {
				row[4] = numbers[*ev.AgreementID]
			}
			for i := range row {
				row[i] = csvSafe(row[i])
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if len(evs) < AuditMaxLimit {
			break
		}
		after = &models.AuditPosition{At: evs[len(evs)-1].OccurredAt.UTC(), ID: evs[len(evs)-1].ID}
	}
	cw.Flush()
	return cw.Error()
}

// compactJSON removes insignificant white space (PostgreSQL's jsonb adds some).
func compactJSON(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return s
	}
	return b.String()
}

// csvSafe defuses a cell that spreadsheets would evaluate as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
