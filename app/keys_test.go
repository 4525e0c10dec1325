package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	mailer "github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

const (
	keyMAK = "38JY4-KJHCK-YKP9W-RJ64B-WFP4D"
	keyKMS = "FRTRY-48GWV-JV3DP-M8RTD-92W3X"
	keyV2  = "=GK7H-KVRQG-7X6Q9-Q4RHV-8663Y"
)

type keysFixture struct {
	t     *testing.T
	ctx   context.Context
	store *models.Store
	az    *authz.Authorizer
	keys  *app.Keys
	lic   map[string]int64
	users map[string]int64
	kicks int
}

func i64(n int64) *int64 { return &n }

func newKeysFixture(t *testing.T) *keysFixture {
	t.Helper()
	f := &keysFixture{t: t, ctx: context.Background(), lic: map[string]int64{}, users: map[string]int64{}}
	f.store = modelstest.Open(t, modelstest.URL(t), models.Options{Keyring: modelstest.Keyring(t), Now: func() time.Time { return t0 }})
	ent := "Enterprise"
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{
			{Program: "open_value", Number: "V1", Organization: "C1", Starts: "2026-01-01", Ends: "2028-12-31"},
			{Program: "open_value", Number: "V2", Organization: "C1"},
		},
		Products:     []models.ImportProduct{{ID: "win-ent", Name: "Windows Enterprise", Versions: []models.ImportVersion{{Version: "11", Edition: ent}}}},
		Entitlements: []models.ImportEntitlement{{Agreement: "V1", Product: "win-ent", Version: "11", Edition: &ent}},
		Keys: []models.ImportKey{
			{Agreement: "V1", Product: "win-ent", Type: "mak", Key: keyMAK, ActivationLimit: i64(500), ActivationsUsed: i64(495), ActivationsAsOf: "2026-03-01T09:00:00Z"},
			{Agreement: "V1", Product: "win-ent", Type: "kms", Key: keyKMS},
			{Agreement: "V2", Product: "win-ent", Type: "mak", Key: keyV2, ActivationLimit: i64(100), ActivationsUsed: i64(10)},
		},
	}
	if _, err := f.store.Import(f.ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	for _, a := range modelstest.Find(t, f.store, models.Agreement{}) {
		f.lic[a.Number] = a.ID
	}
	for _, name := range []string{"operator", "admin", "reader", "viewer", "downloader", "stranger"} {
		email := name + "@contoso.example"
		u := models.User{DisplayName: name, Language: "en", WorkEmail: &email, WorkEmailVerifiedAt: &t0, CreatedAt: t0, UpdatedAt: t0}
		modelstest.Create(t, f.store, &u)
		f.users[name] = u.ID
	}
	az, err := authz.New(f.ctx, f.store, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = az.Close() })
	f.az = az
	v1 := f.lic["V1"]
	sys := models.Actor{Label: "system"}
	err = f.store.InTx(f.ctx, func(tx *models.Tx) error {
		for _, g := range []struct {
			user string
			lic  *int64
			perm models.Permission
		}{
			{"operator", nil, models.PermOperator},
			{"admin", &v1, models.PermAdministrator},
			{"reader", &v1, models.PermKeyReader},
			{"viewer", &v1, models.PermLicenseViewer},
			{"downloader", &v1, models.PermDownloadManager},
		} {
			if err := az.Grant(tx, sys, f.users[g.user], g.lic, g.perm, models.SourceDirect); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.keys = app.NewKeys(f.store, az, app.KeysOptions{BaseURL: "https://lsc.example", Kick: func() { f.kicks++ }})
	return f
}

func (f *keysFixture) keyID(suffix string) int64 {
	return modelstest.Take(f.t, f.store, models.ProductKey{Suffix: suffix}).ID
}

func (f *keysFixture) events(kind string) []models.AuditEvent {
	return modelstest.Find(f.t, f.store, models.AuditEvent{Kind: kind})
}

// details decodes an event's details (PostgreSQL's jsonb spaces them out).
func details(t *testing.T, ev models.AuditEvent) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(ev.Details), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *keysFixture) outbox() []models.OutboxMail {
	ms, err := f.store.OutboxMails(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return ms
}

func TestKeysListAndReveal(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	f := newKeysFixture(t)
	v1 := f.lic["V1"]
	for _, who := range []string{"admin", "reader"} {
		list, err := f.keys.List(f.ctx, f.users[who], v1)
		if err != nil || len(list) != 2 {
			t.Fatalf("%s: %v %+v", who, err, list)
		}
		k := list[0]
		if k.Type != "kms" || list[1].Type != "mak" {
			t.Errorf("order: %+v", list)
		}
		mak := list[1]
		if mak.MaskedKey != "XXXXX-XXXXX-XXXXX-XXXXX-WFP4D" || mak.Used() != 495 || mak.Limit() != 500 || mak.Percent != 99 ||
			!mak.NearlyUsedUp || mak.UsedUp || mak.ActivationsAsOf == nil || mak.Product != "Windows Enterprise" {
			t.Errorf("MAK: %+v", mak)
		}
		b, _ := json.Marshal(list)
		if strings.Contains(string(b), keyMAK) || strings.Contains(string(b), keyKMS) || strings.Contains(string(b), "RJ64B") {
			t.Errorf("list shows a key: %s", b)
		}
	}
	for _, who := range []string{"viewer", "downloader", "stranger", "operator"} {
		if _, err := f.keys.List(f.ctx, f.users[who], v1); !errors.Is(err, authz.ErrNoSuchLicence) {
			t.Errorf("%s lists keys: %v", who, err)
		}
	}

	// Reveal: the key, one audit event with licence, key and source.
	key, err := f.keys.Reveal(f.ctx, f.users["reader"], v1, f.keyID("WFP4D"), "192.0.2.7")
	if err != nil || key != keyMAK {
		t.Fatalf("reveal: %q %v", key, err)
	}
	evs := f.events(app.AuditKeyReveal)
	if len(evs) != 1 || evs[0].AgreementID == nil || *evs[0].AgreementID != v1 || evs[0].SourceAddr != "192.0.2.7" ||
		*evs[0].ActorID != f.users["reader"] || details(t, evs[0])["suffix"] != "WFP4D" || strings.Contains(evs[0].Details, keyMAK) {
		t.Errorf("reveal audit: %+v", evs)
	}
	// A key of another licence does not exist here; nor for others.
	if _, err := f.keys.Reveal(f.ctx, f.users["reader"], v1, f.keyID("8663Y"), ""); !errors.Is(err, app.ErrNoSuchKey) {
		t.Errorf("other licence's key: %v", err)
	}
	if _, err := f.keys.Reveal(f.ctx, f.users["viewer"], v1, f.keyID("WFP4D"), ""); !errors.Is(err, authz.ErrNoSuchLicence) {
		t.Errorf("viewer reveals: %v", err)
	}
	if n := len(f.events(app.AuditKeyReveal)); n != 1 {
		t.Errorf("%d reveal events", n)
	}
}

func TestKeysCSV(t *testing.T) {
	f := newKeysFixture(t)
	v1 := f.lic["V1"]
	var masked bytes.Buffer
	if err := f.keys.WriteCSV(f.ctx, f.users["reader"], v1, false, "", &masked); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&masked).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][2] != "key" || rows[2][2] != "XXXXX-XXXXX-XXXXX-XXXXX-WFP4D" || rows[2][3] != "495" || rows[2][4] != "500" ||
		rows[2][5] != "2026-03-01T09:00:00Z" {
		t.Errorf("masked: %v %q", err, rows)
	}
	if len(f.events(app.AuditKeyExport)) != 0 {
		t.Error("masked export audited")
	}
	var full bytes.Buffer
	if err := f.keys.WriteCSV(f.ctx, f.users["admin"], v1, true, "198.51.100.1", &full); err != nil {
		t.Fatal(err)
	}
	rows, _ = csv.NewReader(&full).ReadAll()
	if len(rows) != 3 || rows[1][2] != keyKMS || rows[2][2] != keyMAK {
		t.Errorf("revealed: %q", rows)
	}
	evs := f.events(app.AuditKeyExport)
	if len(evs) != 1 || *evs[0].AgreementID != v1 || !strings.Contains(evs[0].Details, "key_ids") || evs[0].SourceAddr != "198.51.100.1" {
		t.Errorf("export audit: %+v", evs)
	}
	// Formula guard: a key starting with "=" is defused.
	var v2 bytes.Buffer
	sys := models.Actor{Label: "system"}
	v2id := f.lic["V2"]
	if err := f.store.InTx(f.ctx, func(tx *models.Tx) error {
		return f.az.Grant(tx, sys, f.users["reader"], &v2id, models.PermKeyReader, models.SourceDirect)
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.keys.WriteCSV(f.ctx, f.users["reader"], v2id, true, "", &v2); err != nil {
		t.Fatal(err)
	}
	if rows, _ := csv.NewReader(&v2).ReadAll(); len(rows) != 2 || rows[1][2] != "'"+keyV2 {
		t.Errorf("formula guard: %q", rows)
	}
	if err := f.keys.WriteCSV(f.ctx, f.users["viewer"], v1, false, "", &bytes.Buffer{}); !errors.Is(err, authz.ErrNoSuchLicence) {
		t.Errorf("viewer exports: %v", err)
	}
}

func TestActivationRequests(t *testing.T) {
	f := newKeysFixture(t)
	v1 := f.lic["V1"]
	reader := f.users["reader"]

	// Validation and the one answer for unknown keys and non-MAKs.
	for _, c := range []struct {
		suffix string
		qty    int64
		reason string
		want   error
	}{
		{"ZZZZZ", 10, "", app.ErrNoSuchMAK},
		{"92W3X", 10, "", app.ErrNoSuchMAK}, // a KMS key
		{"8663Y", 10, "", app.ErrNoSuchMAK}, // another licence's MAK
	} {
		if _, err := f.keys.RequestActivations(f.ctx, reader, v1, c.suffix, c.qty, c.reason); !errors.Is(err, c.want) {
			t.Errorf("%s: %v", c.suffix, err)
		}
	}
	for _, q := range []int64{0, -1, app.MaxActivationQuantity + 1} {
		if _, err := f.keys.RequestActivations(f.ctx, reader, v1, "WFP4D", q, ""); models.ErrorCode(err) != models.CodeInvalid {
			t.Errorf("quantity %d: %v", q, err)
		}
	}
	if _, err := f.keys.RequestActivations(f.ctx, reader, v1, "WFP4D", 5, strings.Repeat("x", 501)); models.ErrorCode(err) != models.CodeInvalid {
		t.Errorf("long reason: %v", err)
	}
	if _, err := f.keys.RequestActivations(f.ctx, f.users["viewer"], v1, "WFP4D", 5, ""); !errors.Is(err, authz.ErrNoSuchLicence) {
		t.Errorf("viewer requests: %v", err)
	}

	req, err := f.keys.RequestActivations(f.ctx, reader, v1, "wfp4d", 100, "New laptops")
	if err != nil || req.Status != models.RequestPending || req.KeySuffix != "WFP4D" || req.Licence != "V1" || req.Quantity != 100 {
		t.Fatalf("request: %+v %v", req, err)
	}
	if evs := f.events(app.AuditActivationRequest); len(evs) != 1 || *evs[0].AgreementID != v1 {
		t.Errorf("request audit: %+v", evs)
	}
	if len(f.outbox()) != 0 {
		t.Error("operators were mailed")
	}
	mine, err := f.keys.MyActivationRequests(f.ctx, reader)
	if err != nil || len(mine) != 1 || mine[0].ID != req.ID || mine[0].Reason != "New laptops" {
		t.Errorf("mine: %+v %v", mine, err)
	}

	// Only operators see the queue and decide.
	if _, err := f.keys.PendingActivations(f.ctx, f.users["admin"]); !errors.Is(err, app.ErrOperatorsOnly) {
		t.Errorf("admin queue: %v", err)
	}
	if err := f.keys.ApproveActivations(f.ctx, reader, req.ID, ""); !errors.Is(err, app.ErrOperatorsOnly) {
		t.Errorf("reader approves: %v", err)
	}
	op := f.users["operator"]
	queue, err := f.keys.PendingActivations(f.ctx, op)
	if err != nil || len(queue) != 1 || !strings.Contains(queue[0].Requester, "reader@contoso.example") || *queue[0].ActivationLimit != 500 {
		t.Fatalf("queue: %+v %v", queue, err)
	}
	if err := f.keys.ApproveActivations(f.ctx, op, req.ID, "Granted for the rollout."); err != nil {
		t.Fatal(err)
	}
	k := modelstest.Take(t, f.store, models.ProductKey{ID: req.KeyID})
	if *k.ActivationLimit != 600 || *k.ActivationsUsed != 495 {
		t.Errorf("limit after approval: %d", *k.ActivationLimit)
	}
	evs := f.events(app.AuditActivationApproved)
	if len(evs) != 1 || details(t, evs[0])["old_limit"] != 500.0 || details(t, evs[0])["new_limit"] != 600.0 {
		t.Errorf("approval audit: %+v", evs)
	}
	mails := f.outbox()
	if len(mails) != 1 || mails[0].Recipient != "reader@contoso.example" || mails[0].Template != mailer.TemplateActivationDecided ||
		!strings.Contains(mails[0].Data, `"Approved":true`) || !strings.Contains(mails[0].Data, `"KeySuffix":"WFP4D"`) ||
		!strings.Contains(mails[0].Data, "https://lsc.example/licences/V1/keys") || strings.Contains(mails[0].Data, keyMAK) || f.kicks != 1 {
		t.Errorf("mail: %+v kicks %d", mails, f.kicks)
	}
	if err := f.keys.ApproveActivations(f.ctx, op, req.ID, ""); !errors.Is(err, app.ErrActivationDecided) {
		t.Errorf("approving twice: %v", err)
	}
	if err := f.keys.DenyActivations(f.ctx, op, req.ID, ""); !errors.Is(err, app.ErrActivationDecided) {
		t.Errorf("denying after approval: %v", err)
	}
	if err := f.keys.DenyActivations(f.ctx, op, 999999, ""); models.ErrorCode(err) != models.CodeNotFound {
		t.Errorf("unknown request: %v", err)
	}

	// Deny: limit unchanged, requester mailed.
	req2, err := f.keys.RequestActivations(f.ctx, reader, v1, "WFP4D", 50, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.keys.DenyActivations(f.ctx, op, req2.ID, "Use KMS."); err != nil {
		t.Fatal(err)
	}
	k = modelstest.Take(t, f.store, models.ProductKey{ID: req.KeyID})
	mails = f.outbox()
	if *k.ActivationLimit != 600 || len(mails) != 2 || !strings.Contains(mails[1].Data, `"Approved":false`) || !strings.Contains(mails[1].Data, "Use KMS.") {
		t.Errorf("deny: limit %d, mails %+v", *k.ActivationLimit, mails)
	}
	if evs := f.events(app.AuditActivationDenied); len(evs) != 1 {
		t.Errorf("deny audit: %+v", evs)
	}
	mine, _ = f.keys.MyActivationRequests(f.ctx, reader)
	if len(mine) != 2 || mine[0].Status != models.RequestDenied || mine[0].DecisionMessage != "Use KMS." || mine[1].Status != models.RequestApproved {
		t.Errorf("mine after decisions: %+v", mine)
	}
	if queue, _ := f.keys.PendingActivations(f.ctx, op); len(queue) != 0 {
		t.Errorf("queue after decisions: %+v", queue)
	}
}

func TestSetActivationCounts(t *testing.T) {
	f := newKeysFixture(t)
	op := f.users["operator"]
	mak := f.keyID("WFP4D")
	asOf := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	if _, err := f.keys.SetActivationCounts(f.ctx, f.users["admin"], mak, i64(1), nil, asOf); !errors.Is(err, app.ErrOperatorsOnly) {
		t.Errorf("admin: %v", err)
	}
	v, err := f.keys.SetActivationCounts(f.ctx, op, mak, i64(500), nil, asOf)
	if err != nil || v.Used() != 500 || v.Limit() != 500 || !v.UsedUp || !v.ActivationsAsOf.Equal(asOf) {
		t.Fatalf("set: %+v %v", v, err)
	}
	if evs := f.events(app.AuditActivationCounts); len(evs) != 1 || details(t, evs[0])["old_used"] != 495.0 {
		t.Errorf("audit: %+v", evs)
	}
	for _, c := range []struct{ used, limit *int64 }{{i64(501), nil}, {nil, i64(10)}, {i64(-1), nil}, {nil, nil}} {
		if _, err := f.keys.SetActivationCounts(f.ctx, op, mak, c.used, c.limit, time.Time{}); models.ErrorCode(err) != models.CodeInvalid {
			t.Errorf("%v/%v: %v", c.used, c.limit, err)
		}
	}
	if _, err := f.keys.SetActivationCounts(f.ctx, op, f.keyID("92W3X"), i64(1), i64(2), time.Time{}); models.ErrorCode(err) != models.CodeInvalid {
		t.Errorf("KMS: %v", err)
	}
	if _, err := f.keys.SetActivationCounts(f.ctx, op, 999999, i64(1), i64(2), time.Time{}); models.ErrorCode(err) != models.CodeNotFound {
		t.Errorf("unknown key: %v", err)
	}
	v, err = f.keys.SetActivationCounts(f.ctx, op, mak, i64(10), i64(1000), time.Time{})
	if err != nil || v.Used() != 10 || v.Limit() != 1000 || v.NearlyUsedUp || !v.ActivationsAsOf.Equal(t0) {
		t.Errorf("set both: %+v %v", v, err)
	}
}

func TestVerificationForm(t *testing.T) {
	f := newKeysFixture(t)
	v1 := f.lic["V1"]
	for _, who := range []string{"viewer", "admin"} {
		d, err := f.keys.VerificationForm(f.ctx, f.users[who], v1)
		if err != nil || d.Organization != "Contoso" || d.OrganizationNumber != "C1" || d.Licence != "V1" || d.Program != models.ProgramOpenValue ||
			d.Starts != "2026-01-01" || d.Ends != "2028-12-31" || d.Date != "2026-03-14" || len(d.Products) != 1 ||
			d.Products[0].Product != "Windows Enterprise" || d.Products[0].Version != "11" || d.Products[0].Edition != "Enterprise" {
			t.Errorf("%s: %+v %v", who, d, err)
		}
	}
	for _, who := range []string{"reader", "downloader", "stranger"} {
		if _, err := f.keys.VerificationForm(f.ctx, f.users[who], v1); !errors.Is(err, authz.ErrNoSuchLicence) {
			t.Errorf("%s: %v", who, err)
		}
	}
}
