package frontend

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

const pageKeyMAK = "38JY4-KJHCK-YKP9W-RJ64B-WFP4D"

// keysPageEnv serves MountKeys on a real store, authorizer and app.Keys,
// with the fake session of the X-Test-User header.
type keysPageEnv struct {
	*testServer
	store *models.Store
	az    *authz.Authorizer
	keys  *app.Keys
	users map[string]int64
}

func newKeysPageEnv(t *testing.T) *keysPageEnv {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	store := modelstest.Open(t, modelstest.URL(t), models.Options{Keyring: modelstest.Keyring(t), Now: func() time.Time { return at }})
	limit, used := int64(500), int64(495)
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
			{Agreement: "V1", Product: "win-ent", Type: "mak", Key: pageKeyMAK, ActivationLimit: &limit, ActivationsUsed: &used, ActivationsAsOf: "2026-03-01T09:00:00Z"},
			{Agreement: "V1", Product: "win-ent", Type: "kms", Key: "FRTRY-48GWV-JV3DP-M8RTD-92W3X"},
		},
	}
	if _, err := store.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	env := &keysPageEnv{store: store, users: map[string]int64{}}
	for _, name := range []string{"operator", "admin", "reader", "viewer", "downloader", "stranger"} {
		email := name + "@contoso.example"
		u := models.User{DisplayName: name, Language: "en", WorkEmail: &email, WorkEmailVerifiedAt: &at, CreatedAt: at, UpdatedAt: at}
		modelstest.Create(t, store, &u)
		env.users[name] = u.ID
	}
	az, err := authz.New(ctx, store, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = az.Close() })
	v1, err := store.AgreementID(ctx, "V1")
	if err != nil {
		t.Fatal(err)
	}
	err = store.InTx(ctx, func(tx *models.Tx) error {
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
			if err := az.Grant(tx, models.Actor{Label: "system"}, env.users[g.user], g.lic, g.perm, models.SourceDirect); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	active := func(context.Context, int64) (bool, error) { return true, nil }
	env.testServer = newTestServer(t, Options{})
	keys := app.NewKeys(store, az, app.KeysOptions{BaseURL: "http://lsc.example"})
	env.az, env.keys = az, keys
	env.ui.MountKeys(env.engine.Group("/", fakeSession), keys, env.ui.LicenceGuard(az, store, active), az.IsOperator)
	env.ui.MountSummary(env.engine.Group("/", fakeSession), app.NewSummary(store, az), func(c *gin.Context) (int64, bool) { return app.UserID(c.Request.Context()) })
	env.ui.MountOperatorKeys(env.engine.Group("/", fakeSession), keys, az.IsOperator)
	return env
}

func (env *keysPageEnv) as(user string) string {
	return "X-Test-User: " + strconv.FormatInt(env.users[user], 10)
}

func (env *keysPageEnv) keyID(t *testing.T, suffix string) string {
	return strconv.FormatInt(modelstest.Take(t, env.store, models.ProductKey{Suffix: suffix}).ID, 10)
}

func TestKeysPageRefusals(t *testing.T) {
	env := newKeysPageEnv(t)
	unknown := env.get(t, "/licences/NOPE/keys", env.as("admin"))
	if unknown.Code != http.StatusNotFound {
		t.Fatalf("unknown licence: %d", unknown.Code)
	}
	mak := env.keyID(t, "WFP4D")
	for _, who := range []string{"viewer", "downloader", "stranger", "operator"} {
		for _, lic := range []string{"V1", "V2"} {
			for _, target := range []string{"/licences/" + lic + "/keys", "/licences/" + lic + "/keys/export"} {
				rec := env.get(t, target, env.as(who))
				if rec.Code != http.StatusNotFound || rec.Body.String() != unknown.Body.String() {
					t.Errorf("%s GET %s: %d", who, target, rec.Code)
				}
			}
			for _, target := range []string{"/licences/" + lic + "/keys/" + mak + "/reveal", "/licences/" + lic + "/keys/export", "/licences/" + lic + "/activation-requests"} {
				rec := env.post(t, target, url.Values{"confirm": {"1"}, "key_suffix": {"WFP4D"}, "quantity": {"1"}}, env.as(who))
				if rec.Code != http.StatusNotFound || rec.Body.String() != unknown.Body.String() {
					t.Errorf("%s POST %s: %d", who, target, rec.Code)
				}
			}
		}
	}
	for _, who := range []string{"reader", "downloader", "stranger"} {
		if rec := env.get(t, "/licences/V1/verification-form", env.as(who)); rec.Code != http.StatusNotFound {
			t.Errorf("%s reads the verification form: %d", who, rec.Code)
		}
	}
	if rec := env.get(t, "/licences/V1/keys"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/signin") {
		t.Errorf("signed out: %d %v", rec.Code, rec.Header())
	}
	for _, who := range []string{"admin", "reader"} {
		if rec := env.get(t, "/operator/activations", env.as(who)); rec.Code != http.StatusForbidden {
			t.Errorf("%s opens the operators' queue: %d", who, rec.Code)
		}
		if rec := env.post(t, "/operator/activations/1/approve", url.Values{}, env.as(who)); rec.Code != http.StatusForbidden {
			t.Errorf("%s approves: %d", who, rec.Code)
		}
	}
}

func TestKeysPage(t *testing.T) {
	env := newKeysPageEnv(t)
	for _, lang := range []string{"en", "ja"} {
		rec := env.get(t, "/licences/V1/keys", env.as("reader"), "Accept-Language: "+lang)
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", lang, rec.Code, body)
		}
		mustNotContain(t, body, pageKeyMAK, "RJ64B", "FRTRY")
		mustContain(t, body, "XXXXX-XXXXX-XXXXX-XXXXX-WFP4D", `<meter id="usage-`, `max="100" low="79.5" high="94.5" optimum="0" value="99"`,
			`action="/licences/V1/activation-requests"`, `href="/licences/V1/keys/export"`, `name="confirm" value="1" required`)
		if lang == "en" {
			mustContain(t, body, "495 of 500 activations used (as of 1 March 2026, 09:00 UTC)", "Nearly used up: 5 left", "Reveal")
		} else {
			mustContain(t, body, "500 回中 495 回使用済み", "残りわずか", "表示")
		}
	}

	// Reveal: the POST redirects (303) to the keys page, which shows the
	// key once, not cacheable, audited; the key is never in a URL.
	rec := env.post(t, "/licences/V1/keys/"+env.keyID(t, "WFP4D")+"/reveal", url.Values{}, env.as("reader"))
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/licences/V1/keys?revealed=") || strings.Contains(loc, pageKeyMAK) ||
		strings.Contains(rec.Body.String(), pageKeyMAK) {
		t.Fatalf("reveal: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	if rec = env.get(t, strings.SplitN(loc, "#", 2)[0], env.as("admin")); strings.Contains(rec.Body.String(), pageKeyMAK) {
		t.Errorf("another user's browser got the revealed key")
	}
	rec = env.get(t, strings.SplitN(loc, "#", 2)[0], env.as("reader"))
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("revealed page: %d %v", rec.Code, rec.Header())
	}
	mustContain(t, rec.Body.String(), `<code class="product-key" id="revealed-key">`+pageKeyMAK+`</code>`)
	rec = env.get(t, strings.SplitN(loc, "#", 2)[0], env.as("reader"))
	if strings.Contains(rec.Body.String(), pageKeyMAK) || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("the revealed key shows twice: %v", rec.Header())
	}
	n := modelstest.Count(t, env.store, models.AuditEvent{Kind: app.AuditKeyReveal})
	if n != 1 {
		t.Errorf("%d reveal events", n)
	}

	// Exports.
	rec = env.get(t, "/licences/V1/keys/export", env.as("reader"))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" || strings.Contains(rec.Body.String(), pageKeyMAK) ||
		!strings.Contains(rec.Body.String(), "XXXXX-XXXXX-XXXXX-XXXXX-WFP4D") {
		t.Errorf("masked export: %d %q", rec.Code, rec.Body.String())
	}
	rec = env.post(t, "/licences/V1/keys/export", url.Values{}, env.as("reader"))
	if rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("export without confirmation: %d", rec.Code)
	}
	mustContain(t, rec.Body.String(), "Tick the confirmation box")
	rec = env.post(t, "/licences/V1/keys/export", url.Values{"confirm": {"1"}}, env.as("admin"))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), pageKeyMAK) {
		t.Errorf("revealed export: %d %q", rec.Code, rec.Body.String())
	}
	n = modelstest.Count(t, env.store, models.AuditEvent{Kind: app.AuditKeyExport})
	if n != 1 {
		t.Errorf("%d export events", n)
	}

	// Activation request: errors shown on the form, then PRG.
	rec = env.post(t, "/licences/V1/activation-requests", url.Values{"key_suffix": {"92W3X"}, "quantity": {"x"}}, env.as("reader"))
	if rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("bad request: %d", rec.Code)
	}
	mustContain(t, rec.Body.String(), "Enter a whole number from 1 to 100,000.", `value="92W3X"`)
	rec = env.post(t, "/licences/V1/activation-requests", url.Values{"key_suffix": {"92W3X"}, "quantity": {"10"}}, env.as("reader"))
	if rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("KMS key: %d", rec.Code)
	}
	mustContain(t, rec.Body.String(), "Enter the last five characters of one of this licence&#39;s MAKs.")
	rec = env.post(t, "/licences/V1/activation-requests", url.Values{"key_suffix": {"wfp4d"}, "quantity": {"100"}, "reason": {"Rollout"}}, env.as("reader"))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/licences/V1/keys?requested=1#activation-requests" {
		t.Fatalf("request: %d %v", rec.Code, rec.Header())
	}
	body := env.get(t, "/licences/V1/keys?requested=1", env.as("reader")).Body.String()
	mustContain(t, body, "Your request has been sent", "Your activation requests", "Pending")

	// The operator approves from the queue.
	for _, lang := range []string{"en", "ja"} {
		rec = env.get(t, "/operator/activations", env.as("operator"), "Accept-Language: "+lang)
		if rec.Code != http.StatusOK {
			t.Fatalf("queue: %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), "reader@contoso.example", "Rollout", "XXXXX-XXXXX-XXXXX-XXXXX-WFP4D")
	}
	req := modelstest.Take(t, env.store, models.ActivationRequest{})
	id := strconv.FormatInt(req.ID, 10)
	rec = env.post(t, "/operator/activations/"+id+"/approve", url.Values{"message": {"OK"}}, env.as("operator"))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/operator/activations?done=approved" {
		t.Fatalf("approve: %d %v", rec.Code, rec.Header())
	}
	rec = env.post(t, "/operator/activations/"+id+"/deny", url.Values{}, env.as("operator"))
	if rec.Code != http.StatusConflict {
		t.Errorf("deny after approval: %d", rec.Code)
	}
	mustContain(t, rec.Body.String(), "This request has been decided already.")
	mustContain(t, env.get(t, "/operator/activations?done=approved", env.as("operator")).Body.String(), "The request was approved", "No requests wait")
	mustContain(t, env.get(t, "/licences/V1/keys", env.as("reader")).Body.String(), "495 of 600 activations used", "Approved", "OK")
}

func TestVerificationFormPage(t *testing.T) {
	env := newKeysPageEnv(t)
	for _, c := range []struct{ lang, want string }{
		{"en", "To be completed by the OEM or LSP"},
		{"ja", "OEM 様または LSP 様の記入欄"},
	} {
		rec := env.get(t, "/licences/V1/verification-form", env.as("viewer"), "Accept-Language: "+c.lang)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", c.lang, rec.Code)
		}
		body := rec.Body.String()
		mustContain(t, body, c.want, "Contoso", "C1", "V1", "2026-01-01", "2028-12-31", "Windows Enterprise", "Enterprise", "2026-03-14",
			`class="blank-line"`, `rel="stylesheet" href="/static/print.`)
		mustNotContain(t, body, "<script>", pageKeyMAK)
	}
}
