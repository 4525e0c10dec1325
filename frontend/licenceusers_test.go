package frontend

import (
	"context"
	"net/http"
	"net/http/httptest"
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

// usersEnv is the licence users page on a real store, authorizer and
// app.Admin, with a fake session (the X-Test-User header).
type usersEnv struct {
	*testServer
	store *models.Store
	users map[string]int64
}

func newUsersEnv(t *testing.T) *usersEnv {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	store := modelstest.Open(t, modelstest.URL(t), models.Options{Keyring: modelstest.Keyring(t), Now: func() time.Time { return at }})
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{
			{Program: "mbsa", Number: "M1", Organization: "C1"},
			{Program: "enterprise", Number: "E1", Organization: "C1", Parent: "M1"},
			{Program: "open_value", Number: "V1", Organization: "C1", Contacts: []models.ImportContact{{Email: "viewer@contoso.example", Role: "notices"}}},
			{Program: "open_value", Number: "V2", Organization: "C1"},
		},
	}
	if _, err := store.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	env := &usersEnv{store: store, users: map[string]int64{}}
	for _, name := range []string{"admin", "mbsa", "viewer", "partner", "stranger", "unverified"} {
		email := name + "@contoso.example"
		if name == "partner" {
			email = "partner@reseller.example"
		}
		u := models.User{DisplayName: strings.ToUpper(name[:1]) + name[1:], WorkEmail: &email, Language: "en", CreatedAt: at, UpdatedAt: at}
		if name != "unverified" {
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
	id := func(n string) *int64 {
		v, err := store.AgreementID(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	system := models.Actor{Label: "system"}
	grants := []struct {
		user, licence string
		perm          models.Permission
		source        models.GrantSource
	}{
		{"admin", "E1", models.PermAdministrator, models.SourceDirect},
		{"admin", "V1", models.PermAdministrator, models.SourceDirect},
		{"admin", "V2", models.PermAdministrator, models.SourceDirect},
		{"mbsa", "M1", models.PermAdministrator, models.SourceDirect},
		{"viewer", "V1", models.PermLicenseViewer, models.SourceContact},
		{"partner", "V1", models.PermKeyReader, models.SourceDirect},
		{"unverified", "V2", models.PermAdministrator, models.SourceDirect},
	}
	err = store.InTx(ctx, func(tx *models.Tx) error {
		for _, g := range grants {
			if err := az.Grant(tx, system, env.users[g.user], id(g.licence), g.perm, g.source); err != nil {
				return err
			}
		}
		mbsa := env.users["mbsa"]
		return az.SetInheritance(tx, models.Actor{UserID: &mbsa, Label: "user"}, mbsa, *id("M1"), true)
	})
	if err != nil {
		t.Fatal(err)
	}
	active := func(ctx context.Context, user int64) (bool, error) {
		u, err := store.User(ctx, user)
		if err != nil {
			return false, err
		}
		return u.WorkEmailVerifiedAt != nil, nil
	}
	env.testServer = newTestServer(t, Options{})
	admin := app.NewAdmin(store, az, app.AdminOptions{BaseURL: "http://lsc.example"})
	env.ui.MountLicenceUsers(env.engine.Group("/", fakeSession), admin, env.ui.LicenceGuard(az, store, active))
	// The same page behind a guard built as cmd/openlsc builds its page
	// guard, without Fail: under /plain.
	plain := authz.Guard{Authorizer: az, Licences: store, User: func(c *gin.Context) (int64, bool) {
		user, ok := app.UserID(c.Request.Context())
		if !ok {
			return 0, false
		}
		ok, err := active(c.Request.Context(), user)
		return user, err == nil && ok
	}}
	env.ui.MountLicenceUsers(env.engine.Group("/plain", fakeSession), admin, plain)
	return env
}

func (env *usersEnv) header(user string) string {
	return "X-Test-User: " + strconv.FormatInt(env.users[user], 10)
}

func (env *usersEnv) page(t *testing.T, user, target string, headers ...string) (int, string) {
	t.Helper()
	if user != "" {
		headers = append(headers, env.header(user))
	}
	rec := env.get(t, target, headers...)
	return rec.Code, rec.Body.String()
}

// post sends a form as user.
func (s *testServer) post(t testing.TB, target string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(name, strings.TrimSpace(value))
	}
	rec := httptest.NewRecorder()
	s.engine.ServeHTTP(rec, req)
	return rec
}

func (env *usersEnv) postAs(t *testing.T, user, target string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	return env.post(t, target, form, env.header(user))
}

func TestLicenceUsersPage(t *testing.T) {
	env := newUsersEnv(t)
	partner := strconv.FormatInt(env.users["partner"], 10)

	t.Run("English", func(t *testing.T) {
		code, body := env.page(t, "admin", "/licences/V1/users")
		if code != http.StatusOK {
			t.Fatalf("status %d\n%s", code, body)
		}
		mustContain(t, body, "<h1>Users of licence V1</h1>", "<h2 id=\"people-heading\">People with access</h2>",
			"partner@reseller.example <span class=\"badge badge-warn\"", ">External</span>",
			"License viewer (Licensing Info) <span class=\"hint\">(agreement contact)</span>",
			"Key reader (Product Keys) <span class=\"hint\">(given by an administrator)</span>",
			`action="/licences/V1/users/`+partner+`"`, `action="/licences/V1/users/`+partner+`/remove"`,
			`<input type="checkbox" id="perm-u`+partner+`-key_reader" name="permissions" value="key_reader" checked>`,
			`<label for="perm-u`+partner+`-key_reader">`,
			"<h2 id=\"add-heading\">Add a user</h2>", `<form method="post" action="/licences/V1/users"`,
			`<label for="add-email">Work email</label>`, `id="add-perm-administrator" name="permissions" value="administrator"`,
			// The other licences the administrator administers.
			`name="also_licences" value="E1"`, `name="also_licences" value="V2"`)
		mustNotContain(t, body, `value="V1"`, `value="M1"`, "<style", "style=", "<script>", "onclick",
			"viewer@contoso.example <span") // contacts inside the organisation are not external
		// The contact-only person cannot be removed; nor is anyone offered
		// a removal of what they do not hold directly.
		viewer := strconv.FormatInt(env.users["viewer"], 10)
		mustNotContain(t, body, `action="/licences/V1/users/`+viewer+`/remove"`)
	})

	t.Run("Japanese", func(t *testing.T) {
		code, body := env.page(t, "admin", "/licences/V1/users", "Accept-Language: ja")
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		mustContain(t, body, "<h1>ライセンス V1 のユーザー</h1>", "ユーザーの追加", "アクセス許可", "外部", "契約の連絡先", "キー閲覧者 (プロダクト キー)")
	})

	t.Run("Inherited", func(t *testing.T) {
		code, body := env.page(t, "admin", "/licences/E1/users")
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		mustContain(t, body, "Administrator <span class=\"hint\">(inherited from MBSA M1)</span>", ">Mbsa</th>")
		mbsa := strconv.FormatInt(env.users["mbsa"], 10)
		mustNotContain(t, body, `action="/licences/E1/users/`+mbsa+`/remove"`)
	})

	t.Run("NotAdministratorSameAsUnknown", func(t *testing.T) {
		code, unknown := env.page(t, "admin", "/licences/NOPE/users")
		if code != http.StatusNotFound {
			t.Fatalf("unknown licence: status %d", code)
		}
		mustContain(t, unknown, "There is no such licence, or you are not one of its administrators.")
		for _, user := range []string{"stranger", "viewer", "partner"} {
			code, body := env.page(t, user, "/licences/V1/users")
			if code != http.StatusNotFound || body != unknown {
				t.Errorf("%s: status %d, body differs from an unknown licence's: %v", user, code, body != unknown)
			}
			code, body = env.page(t, user, "/licences/NOPE/users")
			if code != http.StatusNotFound || body != unknown {
				t.Errorf("%s, unknown licence: status %d", user, code)
			}
			rec := env.postAs(t, user, "/licences/V1/users", url.Values{"email": {"x@contoso.example"}, "permissions": {"administrator"}})
			if rec.Code != http.StatusNotFound || rec.Body.String() != unknown {
				t.Errorf("%s: POST status %d", user, rec.Code)
			}
		}
		_, ja := env.page(t, "stranger", "/licences/V1/users", "Accept-Language: ja")
		mustContain(t, ja, "該当するライセンスがないか")
	})

	t.Run("Unverified", func(t *testing.T) {
		code, body := env.page(t, "unverified", "/licences/V2/users")
		if code != http.StatusForbidden {
			t.Fatalf("status %d", code)
		}
		mustContain(t, body, "Confirm your work email first")
		mustNotContain(t, body, "unverified@contoso.example")
	})

	t.Run("GuardWithoutFail", func(t *testing.T) {
		code, body := env.page(t, "admin", "/plain/licences/V1/users")
		if code != http.StatusOK || !strings.Contains(body, "<h1>Users of licence V1</h1>") {
			t.Fatalf("administrator: status %d", code)
		}
		_, unknown := env.page(t, "admin", "/licences/NOPE/users")
		for _, target := range []string{"/plain/licences/V1/users", "/plain/licences/NOPE/users"} {
			code, body = env.page(t, "stranger", target)
			if code != http.StatusNotFound || body != unknown {
				t.Errorf("%s: status %d", target, code)
			}
		}
		code, body = env.page(t, "unverified", "/plain/licences/V2/users")
		if code != http.StatusForbidden {
			t.Fatalf("unverified: status %d", code)
		}
		mustContain(t, body, "Confirm your work email first")
		if rec := env.get(t, "/plain/licences/V1/users"); rec.Code != http.StatusSeeOther {
			t.Errorf("signed out: status %d", rec.Code)
		}
	})

	t.Run("SignedOut", func(t *testing.T) {
		rec := env.get(t, "/licences/V1/users")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/signin?return_to="+url.QueryEscape("/licences/V1/users") {
			t.Errorf("signed out: %d %q", rec.Code, rec.Header().Get("Location"))
		}
	})
}

func TestLicenceUsersChanges(t *testing.T) {
	env := newUsersEnv(t)
	partner := strconv.FormatInt(env.users["partner"], 10)

	t.Run("AddInvites", func(t *testing.T) {
		rec := env.postAs(t, "admin", "/licences/V1/users", url.Values{
			"email": {"New.Person@Contoso.example"}, "first_name": {"New"}, "last_name": {"Person"},
			"permissions": {"download_manager", "license_viewer"}, "also_licences": {"V2"},
		})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
		}
		loc := rec.Header().Get("Location")
		if !strings.HasPrefix(loc, "/licences/V1/users?") || !strings.Contains(loc, "done=added") {
			t.Fatalf("Location %q", loc)
		}
		code, body := env.page(t, "admin", loc)
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		mustContain(t, body, `class="notice notice-success" role="status"`, "New.Person@Contoso.example was added",
			"<h2 id=\"invitations-heading\">Pending invitations</h2>", "new.person@contoso.example", "New Person",
			"License viewer (Licensing Info), Download manager (Download)", `<time datetime="2026-04-13T09:00:00Z" data-local>13 April 2026, 09:00 UTC</time>`,
			"Resend the invitation to new.person@contoso.example")
		if !regexp.MustCompile(`action="/licences/V1/invitations/\d+/resend"`).MatchString(body) {
			t.Error("no resend form")
		}
		// Copied to V2 as well.
		_, v2 := env.page(t, "admin", "/licences/V2/users")
		mustContain(t, v2, "new.person@contoso.example")

		id := regexp.MustCompile(`/licences/V1/invitations/(\d+)/resend`).FindStringSubmatch(body)[1]
		rec = env.postAs(t, "admin", "/licences/V1/invitations/"+id+"/resend", nil)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/licences/V1/users?done=resent" {
			t.Fatalf("resend: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		_, body = env.page(t, "admin", "/licences/V1/users?done=resent", "Accept-Language: ja")
		mustContain(t, body, "招待を再送信しました。")
		// Another licence's invitation is not this licence's.
		rec = env.postAs(t, "admin", "/licences/E1/invitations/"+id+"/resend", nil)
		if rec.Code != http.StatusNotFound {
			t.Fatalf("resend on another licence: %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), `role="alert"`, "This invitation is no longer pending")
	})

	t.Run("AddInvalid", func(t *testing.T) {
		rec := env.postAs(t, "admin", "/licences/V1/users", url.Values{"email": {"not-an-email"}, "first_name": {"<b>X</b>"}})
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", rec.Code)
		}
		body := rec.Body.String()
		mustContain(t, body, `role="alert"`, "The user could not be added.",
			`value="not-an-email" aria-invalid="true" aria-describedby="add-email-error"`,
			`<p id="add-email-error" class="field-error">Enter an email address such as name@company.example.</p>`,
			`value="&lt;b&gt;X&lt;/b&gt;"`)
		mustNotContain(t, body, "<b>X")

		rec = env.postAs(t, "admin", "/licences/V1/users", url.Values{"email": {"ok@contoso.example"}})
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("no permissions: status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), `<p id="add-perm-error" class="field-error">Pick one or more permissions.</p>`, `value="ok@contoso.example"`)

		// M1 is not the administrator's.
		rec = env.postAs(t, "admin", "/licences/V1/users", url.Values{"email": {"ok@contoso.example"}, "permissions": {"key_reader"}, "also_licences_text": {"V2, M1"}})
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("also M1: status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), "You can copy permissions only to licences you administer.",
			`name="also_licences" value="V2" checked`, `id="add-perm-key_reader" name="permissions" value="key_reader" checked`)
	})

	t.Run("EditAndRemove", func(t *testing.T) {
		rec := env.postAs(t, "admin", "/licences/V1/users/"+partner, url.Values{"permissions": {"key_reader", "download_manager"}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/licences/V1/users?done=updated" {
			t.Fatalf("edit: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		_, body := env.page(t, "admin", "/licences/V1/users?done=updated")
		mustContain(t, body, "The permissions were changed.",
			`id="perm-u`+partner+`-download_manager" name="permissions" value="download_manager" checked`)

		rec = env.postAs(t, "admin", "/licences/V1/users/"+partner+"/remove", nil)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/licences/V1/users?done=removed" {
			t.Fatalf("remove: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		_, body = env.page(t, "admin", "/licences/V1/users?done=removed")
		mustContain(t, body, "permissions on this licence were removed")
		mustNotContain(t, body, "partner@reseller.example")
	})

	t.Run("LastAdministrator", func(t *testing.T) {
		admin := strconv.FormatInt(env.users["admin"], 10)
		rec := env.postAs(t, "admin", "/licences/V1/users/"+admin+"/remove", nil)
		if rec.Code != http.StatusConflict {
			t.Fatalf("status %d", rec.Code)
		}
		body := rec.Body.String()
		mustContain(t, body, `role="alert"`, "This is the last administrator of the licence.", "<details open>", "<h1>Users of licence V1</h1>")
		rec = env.post(t, "/licences/V1/users/"+admin, url.Values{"permissions": {"key_reader"}}, env.header("admin"), "Accept-Language: ja")
		if rec.Code != http.StatusConflict {
			t.Fatalf("edit away: status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), "このユーザーはライセンスの最後の管理者です。")
	})

	t.Run("ContactNotRemovable", func(t *testing.T) {
		viewer := strconv.FormatInt(env.users["viewer"], 10)
		rec := env.postAs(t, "admin", "/licences/V1/users/"+viewer+"/remove", nil)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), "come from the agreement&#39;s contact data or from MBSA inheritance")
		stranger := strconv.FormatInt(env.users["stranger"], 10)
		for _, target := range []string{"/licences/V1/users/" + stranger + "/remove", "/licences/V1/users/abc"} {
			rec = env.postAs(t, "admin", target, nil)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("%s: status %d", target, rec.Code)
			}
			mustContain(t, rec.Body.String(), "This person has no access to the licence")
		}
	})
}
