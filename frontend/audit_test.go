package frontend

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
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

// auditEnv is the audit page on a real store, with a fake session: the
// X-Test-User header names the signed-in user.
type auditEnv struct {
	*testServer
	users map[string]int64
}

// fakeSession signs the request in as the user of the X-Test-User header.
func fakeSession(c *gin.Context) {
	if v := c.GetHeader("X-Test-User"); v != "" {
		id, _ := strconv.ParseInt(v, 10, 64)
		identity := id + 1000
		sess := &app.Session{Record: &models.Session{UserID: &id, IdentityID: &identity}}
		c.Request = c.Request.WithContext(app.WithSession(c.Request.Context(), sess))
	}
	c.Next()
}

func newAuditEnv(t *testing.T) *auditEnv {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	store := modelstest.Open(t, modelstest.URL(t), models.Options{Keyring: modelstest.Keyring(t), Now: func() time.Time { return at }})
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{
			{Program: "open_value", Number: "V1", Organization: "C1"},
			{Program: "open_value", Number: "V2", Organization: "C1"},
		},
	}
	if _, err := store.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	env := &auditEnv{users: map[string]int64{}}
	for _, name := range []string{"admin", "unverified"} {
		u := models.User{DisplayName: name, Language: "en", CreatedAt: at, UpdatedAt: at}
		if name == "admin" {
			u.WorkEmailVerifiedAt = &at
		}
		modelstest.Create(t, store, &u)
		env.users[name] = u.ID
	}
	az, err := authz.New(ctx, store, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = az.Close() })
	v1, _ := store.AgreementID(ctx, "V1")
	v2, _ := store.AgreementID(ctx, "V2")
	admin := env.users["admin"]
	err = store.InTx(ctx, func(tx *models.Tx) error {
		if err := az.Grant(tx, models.Actor{Label: "system"}, admin, &v1, models.PermAdministrator, models.SourceDirect); err != nil {
			return err
		}
		actor := models.Actor{UserID: &admin, Label: "user:" + strconv.FormatInt(admin, 10), SourceAddr: "192.0.2.7"}
		if err := tx.AppendAudit(actor, "download", &v1, map[string]any{"file": "<b>setup.iso</b>", "size": 42}); err != nil {
			return err
		}
		return tx.AppendAudit(actor, "download", &v2, map[string]any{"file": "secret-of-v2.iso"})
	})
	if err != nil {
		t.Fatal(err)
	}
	env.testServer = newTestServer(t, Options{})
	env.ui.MountAudit(env.engine.Group("/", fakeSession), app.NewAudit(store, az))
	return env
}

func (env *auditEnv) as(t *testing.T, user, target string, headers ...string) (int, string, http.Header) {
	t.Helper()
	if user != "" {
		headers = append(headers, "X-Test-User: "+strconv.FormatInt(env.users[user], 10))
	}
	rec := env.get(t, target, headers...)
	return rec.Code, rec.Body.String(), rec.Header()
}

func TestAuditPage(t *testing.T) {
	env := newAuditEnv(t)

	t.Run("SignedOut", func(t *testing.T) {
		code, _, h := env.as(t, "", "/audit?kind=grant")
		if code != http.StatusSeeOther || h.Get("Location") != "/signin?return_to="+url.QueryEscape("/audit?kind=grant") {
			t.Errorf("signed out: %d %q", code, h.Get("Location"))
		}
	})

	t.Run("Administrator", func(t *testing.T) {
		code, body, _ := env.as(t, "admin", "/audit")
		if code != http.StatusOK {
			t.Fatalf("status %d\n%s", code, body)
		}
		mustContain(t, body, "<h1>Audit log</h1>", "<caption>Audit events, newest first</caption>",
			`<th scope="col">Time (UTC)</th>`, `<label for="audit-licence">`, `<label for="audit-from">`,
			`<form method="get" action="/audit"`, `<span title="download">Download</span>`, `<span title="grant">Permission given</span>`, "192.0.2.7",
			// The kind filter is a select of named kinds.
			`<select id="audit-kind" name="kind">`, `<option value="key.reveal">Product key revealed</option>`,
			// Details named in the page's language, values escaped.
			`<li><span class="detail-key">File:</span> &lt;b&gt;setup.iso&lt;/b&gt;</li><li><span class="detail-key">Size:</span> 42</li>`,
			`<time datetime="2026-03-14T09:00:00Z">2026-03-14 09:00:00</time>`,
			`href="/api/v1/audit?format=csv"`)
		mustNotContain(t, body, "secret-of-v2", "<b>setup", "<style", "style=", "<script>", "onclick")
		// Actors are named, not shown as user:<id>.
		mustContain(t, body, "<td>admin</td>")
		mustNotContain(t, body, "<td>user:"+strconv.FormatInt(env.users["admin"], 10)+"</td>")
	})

	t.Run("FiltersEchoAndCSVLink", func(t *testing.T) {
		code, body, _ := env.as(t, "admin", "/audit?licence=V1&kind=download&from=2026-03-01&to=2026-03-31&actor_id="+strconv.FormatInt(env.users["admin"], 10))
		if code != http.StatusOK {
			t.Fatalf("status %d\n%s", code, body)
		}
		mustContain(t, body, `name="licence" type="text" autocomplete="off" spellcheck="false" value="V1"`,
			`<option value="download" selected>Download</option>`, `value="2026-03-01"`, `value="2026-03-31"`,
			`<input type="hidden" name="actor_id" value="`+strconv.FormatInt(env.users["admin"], 10)+`">`)
		m := regexp.MustCompile(`href="(/api/v1/audit\?[^"]*)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no CSV link:\n%s", body)
		}
		u, _ := url.Parse(html.UnescapeString(m[1]))
		q := u.Query()
		if q.Get("format") != "csv" || q.Get("licence") != "V1" || q.Get("kind") != "download" || q.Get("from") != "2026-03-01" ||
			q.Get("to") != "2026-03-31" || q.Get("actor_id") != strconv.FormatInt(env.users["admin"], 10) {
			t.Errorf("CSV link %s", u)
		}
		if strings.Count(body, `<span title="download">`) != 1 || strings.Contains(body, `<span title="grant">`) {
			t.Errorf("the filter did not apply:\n%s", body)
		}
	})

	t.Run("OtherLicenceEmpty", func(t *testing.T) {
		code, body, _ := env.as(t, "admin", "/audit?licence=V2")
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		mustContain(t, body, "No events match.")
		mustNotContain(t, body, "secret-of-v2", "<table")
	})

	t.Run("NextPage", func(t *testing.T) {
		_, body, _ := env.as(t, "admin", "/audit?limit=1&kind=")
		m := regexp.MustCompile(`href="(/audit\?[^"]*)" rel="next"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no next link:\n%s", body)
		}
		next := html.UnescapeString(m[1])
		if u, _ := url.Parse(next); u.Query().Get("cursor") == "" || u.Query().Get("limit") != "1" {
			t.Errorf("next link %s", next)
		}
		code, body, _ := env.as(t, "admin", next)
		if code != http.StatusOK || strings.Count(body, "<tr>") != 2 || strings.Contains(body, `rel="next"`) {
			t.Errorf("second page: %d\n%s", code, body)
		}
	})

	t.Run("Japanese", func(t *testing.T) {
		code, body, h := env.as(t, "admin", "/audit", "Accept-Language: ja")
		if code != http.StatusOK || h.Get("Content-Language") != "ja" {
			t.Fatalf("status %d, language %q", code, h.Get("Content-Language"))
		}
		mustContain(t, body, "<h1>監査ログ</h1>", "<caption>監査イベント (新しい順)</caption>", "CSV をダウンロード")
	})

	t.Run("BadFilter", func(t *testing.T) {
		code, body, _ := env.as(t, "admin", "/audit?from=yesterday&licence=V1")
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", code)
		}
		mustContain(t, body, `value="yesterday" aria-invalid="true" aria-describedby="audit-from-error"`,
			"Enter a date such as 2026-03-14.", `value="V1"`, `role="alert"`)
		mustNotContain(t, body, "<table")
		code, body, _ = env.as(t, "admin", "/audit?cursor=bogus")
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("bad cursor: status %d", code)
		}
		mustContain(t, body, "The link you followed is not valid.")
	})

	t.Run("Unverified", func(t *testing.T) {
		code, body, _ := env.as(t, "unverified", "/audit")
		if code != http.StatusForbidden {
			t.Fatalf("status %d", code)
		}
		mustContain(t, body, "Confirm your work email first", `href="/account/work-email"`)
		mustNotContain(t, body, "<table", "<form method=\"get\"")
	})
}

func TestDetailsText(t *testing.T) {
	var d map[string]any
	dec := json.NewDecoder(strings.NewReader(`{"user_id": 12345678901234567, "perm": "administrator", "inherit": true, "list": [1, "a"], "nested": {"x": null}}`))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	want := `inherit=true list=[1,"a"] nested={"x":null} perm=administrator user_id=12345678901234567`
	if got := detailsText(d); got != want {
		t.Errorf("detailsText = %q, want %q", got, want)
	}
	if got := detailsText(map[string]any{}); got != "" {
		t.Errorf("empty details: %q", got)
	}
}
