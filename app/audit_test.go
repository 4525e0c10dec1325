package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// auditClock is a settable time source.
type auditClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *auditClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *auditClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// enrollments is how many agreements hang under M1: more than are sent
// inline, so the long-list query runs too.
const enrollments = 130

type auditFixture struct {
	t     *testing.T
	ctx   context.Context
	store *models.Store
	az    *authz.Authorizer
	audit *app.Audit
	clock *auditClock
	lic   map[string]int64
	users map[string]int64
}

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

func newAuditFixture(t *testing.T) *auditFixture {
	t.Helper()
	f := &auditFixture{t: t, ctx: context.Background(), clock: &auditClock{t: t0}, lic: map[string]int64{}, users: map[string]int64{}}
	f.store = modelstest.Open(t, modelstest.URL(t), models.Options{Keyring: modelstest.Keyring(t), Now: f.clock.Now})
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}, {Number: "C2", Name: "Fabrikam"}},
		Agreements: []models.ImportAgreement{
			{Program: "mbsa", Number: "M1", Organization: "C1"},
			{Program: "open_value", Number: "V1", Organization: "C1"},
			{Program: "open_value", Number: "V2", Organization: "C2"},
		},
	}
	for i := 1; i <= enrollments; i++ {
		doc.Agreements = append(doc.Agreements, models.ImportAgreement{Program: "enterprise", Number: fmt.Sprintf("E%03d", i), Organization: "C1", Parent: "M1"})
	}
	if _, err := f.store.Import(f.ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	for _, a := range modelstest.Find(t, f.store, models.Agreement{}) {
		f.lic[a.Number] = a.ID
	}
	now := f.clock.Now()
	for _, name := range []string{"operator", "admin", "mbsa", "stranger", "unverified"} {
		u := models.User{DisplayName: name, Language: "en", CreatedAt: now, UpdatedAt: now}
		if name != "unverified" {
			email := name + "@contoso.example"
			u.WorkEmail, u.WorkEmailVerifiedAt = &email, &now
		}
		modelstest.Create(t, f.store, &u)
		f.users[name] = u.ID
	}
	az, err := authz.New(f.ctx, f.store, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = az.Close() })
	f.az = az
	f.audit = app.NewAudit(f.store, az)
	return f
}

func (f *auditFixture) do(fn func(tx *models.Tx) error) {
	f.t.Helper()
	if err := f.store.InTx(f.ctx, fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *auditFixture) id(n string) *int64 { v := f.lic[n]; return &v }

func (f *auditFixture) actor(name string) models.Actor {
	id := f.users[name]
	return models.Actor{UserID: &id, Label: "user:" + name, SourceAddr: "192.0.2.1"}
}

// event appends an audit event at time at.
func (f *auditFixture) event(at time.Time, actor models.Actor, kind, lic string, details any) {
	f.t.Helper()
	f.clock.Set(at)
	var l *int64
	if lic != "" {
		l = f.id(lic)
	}
	f.do(func(tx *models.Tx) error { return tx.AppendAudit(actor, kind, l, details) })
}

func (f *auditFixture) list(viewer string, flt app.AuditFilter) []app.AuditEventView {
	f.t.Helper()
	p, err := f.audit.List(f.ctx, f.users[viewer], flt)
	if err != nil {
		f.t.Fatalf("List(%s, %+v): %v", viewer, flt, err)
	}
	return p.Events
}

// all pages through every event viewer may read with flt.
func (f *auditFixture) all(viewer string, flt app.AuditFilter) []app.AuditEventView {
	f.t.Helper()
	var out []app.AuditEventView
	for range 10000 {
		p, err := f.audit.List(f.ctx, f.users[viewer], flt)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, p.Events...)
		if p.Next == "" {
			return out
		}
		flt.Cursor = p.Next
	}
	f.t.Fatal("pagination does not end")
	return nil
}

func licencesOf(evs []app.AuditEventView) []string {
	var out []string
	for _, e := range evs {
		if !slices.Contains(out, e.Licence) {
			out = append(out, e.Licence)
		}
	}
	slices.Sort(out)
	return out
}

func kindsOf(evs []app.AuditEventView) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

// seed grants and writes the events the tests read:
//   - the import (no licence), at t0
//   - grants: admin on V1, mbsa on M1 (+ inherit), admin2… on V2 by the system
//   - download events on V1, V2, E001, E130 and a sign-in event without licence.
func (f *auditFixture) seed() {
	sys := models.Actor{Label: "system"}
	f.clock.Set(t0.Add(time.Minute))
	f.do(func(tx *models.Tx) error {
		if err := f.az.Grant(tx, sys, f.users["operator"], nil, models.PermOperator, models.SourceDirect); err != nil {
			return err
		}
		if err := f.az.Grant(tx, sys, f.users["admin"], f.id("V1"), models.PermAdministrator, models.SourceDirect); err != nil {
			return err
		}
		if err := f.az.Grant(tx, sys, f.users["unverified"], f.id("V1"), models.PermAdministrator, models.SourceDirect); err != nil {
			return err
		}
		if err := f.az.Grant(tx, sys, f.users["stranger"], f.id("V2"), models.PermLicenseViewer, models.SourceDirect); err != nil {
			return err
		}
		return f.az.Grant(tx, sys, f.users["mbsa"], f.id("M1"), models.PermAdministrator, models.SourceDirect)
	})
	f.clock.Set(t0.Add(2 * time.Minute))
	f.do(func(tx *models.Tx) error {
		return f.az.SetInheritance(tx, f.actor("mbsa"), f.users["mbsa"], f.lic["M1"], true)
	})
	f.event(t0.Add(time.Hour), f.actor("admin"), "download", "V1", map[string]any{"file": "=cmd|' /C calc'!A0", "size": 12})
	f.event(t0.Add(2*time.Hour), f.actor("stranger"), "download", "V2", map[string]any{"file": "x.iso"})
	f.event(t0.Add(3*time.Hour), f.actor("mbsa"), "key.reveal", "E001", map[string]any{"product": "Office"})
	f.event(t0.Add(4*time.Hour), models.Actor{Label: "+evil", SourceAddr: "-1+1"}, "download", "E130", nil)
	f.event(t0.Add(5*time.Hour), f.actor("stranger"), "signin", "", nil)
	f.clock.Set(t0.Add(6 * time.Hour))
}

func TestAuditVisibility(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	f := newAuditFixture(t)
	f.seed()

	total := modelstest.Count(t, f.store, models.AuditEvent{})
	if got := f.all("operator", app.AuditFilter{}); int64(len(got)) != total || total < 10 {
		t.Errorf("operator sees %d of %d events", len(got), total)
	}
	if got := f.list("operator", app.AuditFilter{Licence: "V2"}); !slices.Equal(kindsOf(got), []string{"download", "grant"}) {
		t.Errorf("operator on V2: %v", kindsOf(got))
	}

	admin := f.all("admin", app.AuditFilter{})
	if got := licencesOf(admin); !slices.Equal(got, []string{"V1"}) {
		t.Errorf("administrator of V1 sees licences %v", got)
	}
	if !slices.Equal(kindsOf(admin), []string{"download", "grant", "grant"}) {
		t.Errorf("administrator of V1 sees %v", kindsOf(admin))
	}
	if e := admin[0]; e.Actor != "user:admin" || e.ActorID == nil || *e.ActorID != f.users["admin"] || e.SourceAddr != "192.0.2.1" ||
		!e.Time.Equal(t0.Add(time.Hour)) || fmt.Sprint(e.Details["size"]) != "12" {
		t.Errorf("event view: %+v", e)
	}

	// The inheriting MBSA administrator reads the enrollments' events too.
	mbsa := f.all("mbsa", app.AuditFilter{})
	if got := licencesOf(mbsa); !slices.Equal(got, []string{"E001", "E130", "M1"}) {
		t.Errorf("inheriting MBSA administrator sees licences %v", got)
	}
	if got := f.list("mbsa", app.AuditFilter{Licence: "E130"}); len(got) != 1 || got[0].Actor != "+evil" {
		t.Errorf("inheriting MBSA administrator on E130: %+v", got)
	}
	// Not inheriting any more: only the MBSA's own events.
	f.do(func(tx *models.Tx) error {
		return f.az.SetInheritance(tx, f.actor("mbsa"), f.users["mbsa"], f.lic["M1"], false)
	})
	if got := licencesOf(f.all("mbsa", app.AuditFilter{})); !slices.Equal(got, []string{"M1"}) {
		t.Errorf("after choosing not to inherit: %v", got)
	}

	// A viewer of V2 administers nothing; any licence filter is empty,
	// whether the licence exists or not.
	for _, flt := range []app.AuditFilter{{}, {Licence: "V2"}, {Licence: "V1"}, {Licence: "NOPE"}, {Kind: "signin"}} {
		p, err := f.audit.List(f.ctx, f.users["stranger"], flt)
		if err != nil || len(p.Events) != 0 || p.Next != "" {
			t.Errorf("stranger with %+v: %v %+v", flt, err, p)
		}
	}
	if p, err := f.audit.List(f.ctx, f.users["admin"], app.AuditFilter{Licence: "V2"}); err != nil || len(p.Events) != 0 {
		t.Errorf("administrator of V1 asking for V2: %v %+v", err, p)
	}
	if p, err := f.audit.List(f.ctx, f.users["operator"], app.AuditFilter{Licence: "NOPE"}); err != nil || len(p.Events) != 0 {
		t.Errorf("operator asking for an unknown licence: %v %+v", err, p)
	}

	// An unconfirmed work email reads nothing.
	if _, err := f.audit.List(f.ctx, f.users["unverified"], app.AuditFilter{}); err != app.ErrConfirmWorkEmail {
		t.Errorf("unverified: %v", err)
	}
	if err := f.audit.WriteCSV(f.ctx, f.users["unverified"], app.AuditFilter{}, &bytes.Buffer{}); err != app.ErrConfirmWorkEmail {
		t.Errorf("unverified CSV: %v", err)
	}
}

func TestAuditFilters(t *testing.T) {
	f := newAuditFixture(t)
	f.seed()
	admin := f.users["admin"]
	from, to := t0.Add(90*time.Minute), t0.Add(4*time.Hour)
	cases := []struct {
		name string
		flt  app.AuditFilter
		want []string // licences of the events, newest first
	}{
		{"kind", app.AuditFilter{Kind: "download"}, []string{"E130", "V2", "V1"}},
		{"actor", app.AuditFilter{ActorID: &admin}, []string{"V1"}},
		{"from", app.AuditFilter{From: &from, Kind: "download"}, []string{"E130", "V2"}},
		{"to exclusive", app.AuditFilter{From: &from, To: &to}, []string{"E001", "V2"}},
		{"licence and kind", app.AuditFilter{Licence: "V1", Kind: "grant"}, []string{"V1", "V1"}},
		{"nothing", app.AuditFilter{Kind: "nothing"}, nil},
	}
	for _, c := range cases {
		var got []string
		for _, e := range f.all("operator", c.flt) {
			got = append(got, e.Licence)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestAuditPagination(t *testing.T) {
	f := newAuditFixture(t)
	f.seed()
	// Many events at the same instant, and some a nanosecond apart: the
	// cursor must order by id within one time.
	for i := range 23 {
		at := t0.Add(7 * time.Hour)
		if i%3 == 0 {
			at = at.Add(time.Duration(i) * time.Microsecond)
		}
		f.event(at, f.actor("admin"), "download", "V1", map[string]any{"n": i})
	}
	total := modelstest.Count(t, f.store, models.AuditEvent{})
	for _, viewer := range []string{"operator", "admin", "mbsa"} {
		want := f.all(viewer, app.AuditFilter{Limit: app.AuditMaxLimit})
		for _, limit := range []int{1, 2, 5, 7} {
			got := f.all(viewer, app.AuditFilter{Limit: limit})
			seen := map[int64]bool{}
			for i, e := range got {
				if seen[e.ID] {
					t.Errorf("%s limit %d: event %d twice", viewer, limit, e.ID)
				}
				seen[e.ID] = true
				if i > 0 && (e.Time.After(got[i-1].Time) || e.Time.Equal(got[i-1].Time) && e.ID > got[i-1].ID) {
					t.Errorf("%s limit %d: not newest first at %d", viewer, limit, i)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%s limit %d: %d events, want %d", viewer, limit, len(got), len(want))
			}
		}
	}
	if got := f.all("operator", app.AuditFilter{}); int64(len(got)) != total {
		t.Errorf("operator pages through %d of %d", len(got), total)
	}
	p, err := f.audit.List(f.ctx, f.users["operator"], app.AuditFilter{})
	if err != nil || len(p.Events) != app.AuditDefaultLimit && int64(len(p.Events)) != total {
		t.Errorf("default limit: %d events, %v", len(p.Events), err)
	}
	if _, err := f.audit.List(f.ctx, f.users["operator"], app.AuditFilter{Cursor: "garbage!"}); models.ErrorCode(err) != models.CodeInvalid {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestAuditCSV(t *testing.T) {
	f := newAuditFixture(t)
	f.seed()
	// More than one page of the export.
	for i := range app.AuditMaxLimit + 3 {
		f.event(t0.Add(8*time.Hour+time.Duration(i)*time.Millisecond), f.actor("admin"), "download", "V1", map[string]any{"n": i})
	}
	var buf bytes.Buffer
	if err := f.audit.WriteCSV(f.ctx, f.users["admin"], app.AuditFilter{Limit: 1, Kind: "download"}, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], []string{"time", "actor", "actor_id", "kind", "licence", "source_addr", "details"}) {
		t.Errorf("header: %v", rows[0])
	}
	if len(rows) != 1+app.AuditMaxLimit+3+1 {
		t.Errorf("%d rows", len(rows))
	}
	last := rows[len(rows)-1]
	if last[0] != "2026-03-14T10:00:00Z" || last[1] != "user:admin" || last[2] != fmt.Sprint(f.users["admin"]) ||
		last[3] != "download" || last[4] != "V1" || last[5] != "192.0.2.1" || !strings.Contains(last[6], `"file":"=cmd`) {
		t.Errorf("oldest row: %q", last)
	}
	ids := map[string]bool{}
	for _, r := range rows[1:] {
		if ids[r[6]] {
			t.Errorf("row twice: %q", r)
		}
		ids[r[6]] = true
	}

	// Formulas are defused, in every column.
	buf.Reset()
	if err := f.audit.WriteCSV(f.ctx, f.users["operator"], app.AuditFilter{Licence: "E130"}, &buf); err != nil {
		t.Fatal(err)
	}
	rows, _ = csv.NewReader(&buf).ReadAll()
	if len(rows) != 2 || rows[1][1] != "'+evil" || rows[1][5] != "'-1+1" || rows[1][6] != "{}" {
		t.Errorf("formula cells: %q", rows)
	}

	// A stranger gets the header only.
	buf.Reset()
	if err := f.audit.WriteCSV(f.ctx, f.users["stranger"], app.AuditFilter{}, &buf); err != nil || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("stranger CSV: %v %q", err, buf.String())
	}
}

func TestParseAuditFilter(t *testing.T) {
	f, err := app.ParseAuditFilter(url.Values{"licence": {" V1 "}, "actor_id": {"7"}, "kind": {"grant"},
		"from": {"2026-03-01"}, "to": {"2026-03-14"}, "limit": {"10"}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Licence != "V1" || *f.ActorID != 7 || f.Kind != "grant" || f.Limit != 10 ||
		!f.From.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || !f.To.Equal(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("parsed %+v", f)
	}
	f, err = app.ParseAuditFilter(url.Values{"from": {"2026-03-14T09:30:00+09:00"}})
	if err != nil || !f.From.Equal(time.Date(2026, 3, 14, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("RFC 3339: %v %v", f.From, err)
	}
	_, err = app.ParseAuditFilter(url.Values{"from": {"yesterday"}, "actor_id": {"-1"}, "limit": {"501"}, "cursor": {"x"}})
	var e *models.Error
	if !errors.As(err, &e) || e.Code != models.CodeInvalid {
		t.Fatalf("bad filter: %v", err)
	}
	var fields []string
	for _, fe := range e.Fields {
		fields = append(fields, fe.Field)
	}
	if !slices.Equal(fields, []string{"actor_id", "from", "cursor", "limit"}) {
		t.Errorf("fields %v", fields)
	}
	if _, err := app.ParseAuditFilter(url.Values{"from": {"2026-03-14"}, "to": {"2026-03-13"}}); err == nil {
		t.Error("an end before the start is accepted")
	}
}
