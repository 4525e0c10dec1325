package frontend

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// Users of the fake session (X-Test-User, see fakeSession).
const (
	userVerified   = 7
	userUnverified = 8
)

// fakeAccounts answers Summary for the layout and the "confirm your work email"
// notices; the other methods are not used by these pages.
type fakeAccounts struct {
	Accounts
}

func (fakeAccounts) Summary(_ context.Context, user int64) (*app.MeView, error) {
	return &app.MeView{ID: user, DisplayName: "Haruto Ito", WorkEmail: "staff@contoso.example", WorkEmailVerified: user == userVerified}, nil
}

type fakeProviders struct{}

func (fakeProviders) Providers() []*app.Provider { return nil }

// fakeRequests is a RequestsUseCases that records what it is asked.
type fakeRequests struct {
	mu        sync.Mutex
	submitted []app.RequestInput
	submitErr error
	existing  bool
	mine      []app.RequestView
	pending   []app.RequestView
	cancelled []int64
	approved  map[int64][]models.Permission
	denied    map[int64]string
	decideErr error
}

func (f *fakeRequests) Submit(_ context.Context, _ int64, in app.RequestInput) (*app.RequestView, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.submitted = append(f.submitted, in)
	if f.submitErr != nil {
		return nil, false, f.submitErr
	}
	return &app.RequestView{ID: 41, Program: in.Program, LicenseNumber: in.LicenseNumber, Permissions: in.Permissions, Status: models.RequestPending}, !f.existing, nil
}

func (f *fakeRequests) Mine(context.Context, int64) ([]app.RequestView, error) { return f.mine, nil }

func (f *fakeRequests) Pending(context.Context, int64) ([]app.RequestView, error) {
	return f.pending, nil
}

func (f *fakeRequests) Cancel(_ context.Context, _ int64, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.decideErr != nil {
		return f.decideErr
	}
	f.cancelled = append(f.cancelled, id)
	return nil
}

func (f *fakeRequests) Approve(_ context.Context, _ int64, id int64, perms []models.Permission) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.decideErr != nil {
		return f.decideErr
	}
	if f.approved == nil {
		f.approved = map[int64][]models.Permission{}
	}
	f.approved[id] = perms
	return nil
}

func (f *fakeRequests) Deny(_ context.Context, _ int64, id int64, message string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.decideErr != nil {
		return f.decideErr
	}
	if f.denied == nil {
		f.denied = map[int64]string{}
	}
	f.denied[id] = message
	return nil
}

// fakePermissions is a PermissionsUseCases that records what it is asked.
type fakePermissions struct {
	mu        sync.Mutex
	perms     []app.PermissionView
	dropErr   error
	dropped   []string
	mbsas     []app.InheritanceView
	setErr    error
	choices   map[string]bool
	chosenNow bool // SetInheritance answers every MBSA
}

func (f *fakePermissions) Permissions(_ context.Context, user int64) ([]app.PermissionView, error) {
	if user != userVerified {
		return []app.PermissionView{}, nil
	}
	return f.perms, nil
}

func (f *fakePermissions) DropPermission(_ context.Context, _ int64, licence string, perm models.Permission) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropErr != nil {
		return f.dropErr
	}
	f.dropped = append(f.dropped, licence+"/"+string(perm))
	return nil
}

func (f *fakePermissions) Inheritance(_ context.Context, user int64) ([]app.InheritanceView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if user != userVerified {
		return []app.InheritanceView{}, nil
	}
	out := slices.Clone(f.mbsas)
	for i := range out {
		if c, ok := f.choices[out[i].MBSA]; ok {
			out[i].Inherit = &c
		} else if f.chosenNow && len(f.choices) > 0 {
			c := false
			out[i].Inherit = &c
		}
	}
	return out, nil
}

func (f *fakePermissions) SetInheritance(_ context.Context, _ int64, mbsa string, inherit bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.setErr != nil {
		return f.setErr
	}
	if f.choices == nil {
		f.choices = map[string]bool{}
	}
	f.choices[mbsa] = inherit
	return nil
}

// requestEnv is the request, permission and preference pages on fakes.
type requestEnv struct {
	*testServer
	req  *fakeRequests
	perm *fakePermissions
}

func newRequestEnv(t *testing.T) *requestEnv {
	t.Helper()
	created := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	decided := created.Add(2 * time.Hour)
	yes := true
	env := &requestEnv{
		testServer: newTestServer(t, Options{Accounts: fakeAccounts{}, Providers: fakeProviders{}}),
		req: &fakeRequests{
			mine: []app.RequestView{
				{ID: 3, Program: models.ProgramEnterprise, LicenseNumber: "E2000001", Permissions: []models.Permission{models.PermLicenseViewer, models.PermDownloadManager},
					Comment: "I run the <b>desktop</b> team", Status: models.RequestPending, CreatedAt: created, ExpiresAt: created.Add(30 * 24 * time.Hour)},
				{ID: 2, Program: models.ProgramOpenValue, LicenseNumber: "V4000004", Permissions: []models.Permission{models.PermKeyReader},
					Status: models.RequestDenied, DecisionMessage: "Ask <i>your</i> manager", CreatedAt: created, ExpiresAt: created, DecidedAt: &decided},
				{ID: 1, Program: models.ProgramEnterprise, LicenseNumber: "E2000002", Permissions: []models.Permission{models.PermLicenseViewer, models.PermKeyReader},
					GrantedPermissions: []models.Permission{models.PermLicenseViewer}, Status: models.RequestApproved, CreatedAt: created, ExpiresAt: created, DecidedAt: &decided},
			},
			pending: []app.RequestView{
				{ID: 3, Program: models.ProgramEnterprise, LicenseNumber: "E2000001", Permissions: []models.Permission{models.PermLicenseViewer, models.PermDownloadManager},
					Comment: "I run the <b>desktop</b> team", Requester: "Haruto Ito <staff@contoso.example>", Status: models.RequestPending,
					CreatedAt: created, ExpiresAt: created.Add(30 * 24 * time.Hour)},
				{ID: 5, Program: models.ProgramOpenLicense, LicenseNumber: "L3000003", Permissions: []models.Permission{models.PermAdministrator},
					Requester: "Sam Carter <partner@northwind.example>", Status: models.RequestPending, CreatedAt: created, ExpiresAt: created.Add(time.Hour)},
			},
		},
		perm: &fakePermissions{
			perms: []app.PermissionView{
				{Licence: "E2000001", Program: models.ProgramEnterprise, Permission: models.PermAdministrator, Source: models.SourceInherited, ViaMBSA: "M1000001"},
				{Licence: "E2000001", Program: models.ProgramEnterprise, Permission: models.PermLicenseViewer, Source: models.SourceDirect, Removable: true},
				{Licence: "M1000001", Program: models.ProgramMBSA, Permission: models.PermAdministrator, Source: models.SourceContact},
			},
			mbsas: []app.InheritanceView{
				{MBSA: "M1000001", Name: "Contoso <MBSA>"},
				{MBSA: "M1000009", Name: "Contoso Japan", Inherit: &yes},
			},
		},
	}
	g := env.engine.Group("/", fakeSession)
	env.ui.MountRequests(g, env.req)
	env.ui.MountPermissions(g, env.perm)
	env.ui.MountPreferences(g, env.perm)
	return env
}

// as GETs target as the user (0: signed out) in lang ("" for English).
func (env *requestEnv) as(t *testing.T, user int64, lang, target string) *httptest.ResponseRecorder {
	t.Helper()
	var headers []string
	if user != 0 {
		headers = append(headers, "X-Test-User: "+strconv.FormatInt(user, 10))
	}
	if lang != "" {
		headers = append(headers, "Cookie: "+langCookie+"="+lang)
	}
	return env.get(t, target, headers...)
}

// post submits form to target as the user, same-origin as a browser would.
func (env *requestEnv) post(t *testing.T, user int64, lang, target string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != 0 {
		req.Header.Set("X-Test-User", strconv.FormatInt(user, 10))
	}
	if lang != "" {
		req.Header.Set("Cookie", langCookie+"="+lang)
	}
	rec := httptest.NewRecorder()
	env.engine.ServeHTTP(rec, req)
	return rec
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int) string {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d\n%s", rec.Code, status, rec.Body)
	}
	return rec.Body.String()
}

func wantRedirect(t *testing.T, rec *httptest.ResponseRecorder, location string) {
	t.Helper()
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != location {
		t.Fatalf("got %d to %q, want 303 to %q\n%s", rec.Code, rec.Header().Get("Location"), location, rec.Body)
	}
}

// noInline fails when a page has inline scripts, styles or handlers (the
// Content-Security-Policy forbids them).
func noInline(t *testing.T, body string) {
	t.Helper()
	mustNotContain(t, body, "<script>", "style=", "<style", "onclick", "onchange", "onsubmit", "javascript:")
}

func TestRequestPagesSignIn(t *testing.T) {
	env := newRequestEnv(t)
	for _, target := range []string{"/access-requests/new", "/access-requests", "/access-requests/pending", "/permissions", "/inheritance?return_to=/x", "/preferences"} {
		rec := env.as(t, 0, "", target)
		wantRedirect(t, rec, "/signin?return_to="+url.QueryEscape(target))
	}
	for _, target := range []string{"/access-requests/new", "/access-requests/3/cancel", "/access-requests/3/approve", "/access-requests/3/deny",
		"/permissions/E2000001/license_viewer/remove", "/inheritance/M1000001"} {
		rec := env.post(t, 0, "", target, url.Values{"inherit": {"1"}, "permissions": {"license_viewer"}})
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/signin?") {
			t.Errorf("POST %s signed out: %d %q", target, rec.Code, rec.Header().Get("Location"))
		}
	}
	if len(env.req.submitted)+len(env.req.cancelled)+len(env.req.approved)+len(env.req.denied)+len(env.perm.dropped)+len(env.perm.choices) != 0 {
		t.Error("a signed-out POST reached the application")
	}
}

func TestRequestForm(t *testing.T) {
	env := newRequestEnv(t)

	t.Run("English", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "", "/access-requests/new?program=open_license&license_number=L3000003"), http.StatusOK)
		mustContain(t, body, "<h1>Request access</h1>", `<form method="post" action="/access-requests/new"`,
			`<label for="program">Program</label>`, `<option value="open_license" selected>Open License</option>`,
			`<option value="enterprise">Enterprise Agreement</option>`,
			`<label for="license_number">License ID</label>`, `value="L3000003"`,
			`<label for="authorization_number">Authorization number</label>`, "Open License only",
			"<legend>Permissions</legend>", `<input id="perm-administrator" name="permissions" type="checkbox" value="administrator"`,
			`<label for="perm-download_manager">Downloads</label>`, "Download the software the licence entitles.",
			`<label for="comment">Comment (optional)</label>`, `maxlength="500"`, "Submit request")
		noInline(t, body)
	})

	t.Run("Japanese", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "ja", "/access-requests/new"), http.StatusOK)
		mustContain(t, body, `<html lang="ja">`, "<h1>アクセス権限のリクエスト</h1>", "ライセンス ID", "プログラム", "アクセスの選択",
			"Open License の場合のみ", "プロダクト キー", "コメント (任意)", "送信")
	})

	t.Run("Created", func(t *testing.T) {
		rec := env.post(t, userVerified, "", "/access-requests/new", url.Values{
			"program": {"enterprise"}, "license_number": {" E2000001 "}, "authorization_number": {"ignored"},
			"permissions": {"download_manager", "license_viewer"}, "comment": {"please"},
		})
		wantRedirect(t, rec, "/access-requests?created=1#request-41")
		got := env.req.submitted[len(env.req.submitted)-1]
		if got.Program != models.ProgramEnterprise || got.LicenseNumber != " E2000001 " || got.AuthorizationNumber != "" || got.Comment != "please" ||
			!slices.Equal(got.Permissions, []models.Permission{models.PermLicenseViewer, models.PermDownloadManager}) {
			t.Errorf("submitted %+v", got)
		}
	})

	t.Run("OpenLicenseKeepsAuthorizationNumber", func(t *testing.T) {
		env.req.existing = true
		defer func() { env.req.existing = false }()
		rec := env.post(t, userVerified, "", "/access-requests/new", url.Values{
			"program": {"open_license"}, "license_number": {"L3000003"}, "authorization_number": {"AUTH-1"}, "permissions": {"administrator"},
		})
		wantRedirect(t, rec, "/access-requests?existing=1#request-41")
		if got := env.req.submitted[len(env.req.submitted)-1]; got.AuthorizationNumber != "AUTH-1" {
			t.Errorf("submitted %+v", got)
		}
	})

	t.Run("Failed", func(t *testing.T) {
		env.req.submitErr = app.ErrRequestFailed
		defer func() { env.req.submitErr = nil }()
		form := url.Values{"program": {"open_license"}, "license_number": {"L3000003"}, "authorization_number": {"SECRET-AUTH"},
			"permissions": {"administrator"}, "comment": {"<hello>"}}
		body := wantStatus(t, env.post(t, userVerified, "", "/access-requests/new", form), http.StatusUnprocessableEntity)
		mustContain(t, body, `role="alert"`, "<h2>Access request failed</h2>", models.ErrorMessage(app.ErrRequestFailed),
			`<option value="open_license" selected>`, `value="L3000003"`, "&lt;hello&gt;</textarea>",
			`value="administrator" aria-describedby="perm-administrator-hint" checked`)
		mustNotContain(t, body, "SECRET-AUTH", "<hello>")
		body = wantStatus(t, env.post(t, userVerified, "ja", "/access-requests/new", form), http.StatusUnprocessableEntity)
		mustContain(t, body, "アクセス権限のリクエストに失敗しました", "サポートにお問い合わせください")
	})

	t.Run("Locked", func(t *testing.T) {
		env.req.submitErr = models.Errorf(models.CodeTooMany, "Too many access requests failed. Try again in 1h0m0s, or contact support.")
		defer func() { env.req.submitErr = nil }()
		body := wantStatus(t, env.post(t, userVerified, "", "/access-requests/new", url.Values{"program": {"enterprise"}}), http.StatusTooManyRequests)
		mustContain(t, body, `role="alert"`, "Too many access requests failed. Try again later, or contact support.")
	})

	t.Run("VerifyFirst", func(t *testing.T) {
		env.req.submitErr = app.ErrVerifyFirst
		defer func() { env.req.submitErr = nil }()
		body := wantStatus(t, env.post(t, userUnverified, "", "/access-requests/new", url.Values{"program": {"enterprise"}}), http.StatusForbidden)
		mustContain(t, body, "Confirm your work email before requesting access.", `<a href="/account/work-email">`)
	})

	t.Run("Invalid", func(t *testing.T) {
		env.req.submitErr = models.Invalid("Check the request.",
			models.FieldError{Field: "license_number", Message: "give the License ID"},
			models.FieldError{Field: "permissions", Message: "pick one or more permissions"})
		defer func() { env.req.submitErr = nil }()
		body := wantStatus(t, env.post(t, userVerified, "", "/access-requests/new", url.Values{"program": {"enterprise"}}), http.StatusUnprocessableEntity)
		mustContain(t, body, "Some fields are not filled in correctly.",
			`aria-describedby="license_number-hint license_number-error" aria-invalid="true"`,
			`<p id="license_number-error" class="field-error">Enter the License ID (at most 64 characters).</p>`,
			`<fieldset aria-describedby="permissions-error">`, "Choose one or more permissions.")
		mustNotContain(t, body, `id="program-error"`)
	})

	t.Run("OtherError", func(t *testing.T) {
		env.req.submitErr = models.Errorf(models.CodeInternal, "database on fire")
		defer func() { env.req.submitErr = nil }()
		body := wantStatus(t, env.post(t, userVerified, "", "/access-requests/new", url.Values{"program": {"enterprise"}}), http.StatusInternalServerError)
		mustNotContain(t, body, "database on fire")
	})
}

func TestMyRequests(t *testing.T) {
	env := newRequestEnv(t)

	t.Run("English", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "", "/access-requests?created=1"), http.StatusOK)
		mustContain(t, body, "<h1>My access requests</h1>", `<div class="notice notice-success" role="status">`,
			"Your request was sent to the licence&#39;s administrators.",
			"<caption>Your access requests, newest first</caption>", `<tr id="request-3">`,
			"Waiting for approval", "Denied", "Approved", "Ask &lt;i&gt;your&lt;/i&gt; manager", "I run the &lt;b&gt;desktop&lt;/b&gt; team",
			"Requested 14 March 2026, 09:00 UTC", "Expires 13 April 2026, 09:00 UTC", "Decided 14 March 2026, 11:00 UTC",
			"Granted: Licensing info",
			`<form method="post" action="/access-requests/3/cancel"`, `aria-label="Cancel the request for E2000001"`)
		mustNotContain(t, body, "/access-requests/2/cancel", "/access-requests/1/cancel", "<i>your")
		noInline(t, body)
		body = wantStatus(t, env.as(t, userVerified, "", "/access-requests?existing=1"), http.StatusOK)
		mustContain(t, body, "You have already made the same request")
	})

	t.Run("ApprovedInPart", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "", "/access-requests"), http.StatusOK)
		mustContain(t, body, `<span class="badge badge-warn">Approved in part</span>`, `<span class="badge badge-danger">Denied</span>`)
	})

	t.Run("Japanese", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "ja", "/access-requests?cancelled=1"), http.StatusOK)
		mustContain(t, body, "<h1>アクセス権限のリクエスト一覧</h1>", "リクエストを取り消しました。", "承認待ち", "拒否", "一部承認",
			"リクエスト日時: 2026年3月14日 09:00 (UTC)", "リクエストを取り消す")
	})

	t.Run("Empty", func(t *testing.T) {
		mine := env.req.mine
		env.req.mine = nil
		defer func() { env.req.mine = mine }()
		body := wantStatus(t, env.as(t, userVerified, "", "/access-requests"), http.StatusOK)
		mustContain(t, body, `<p role="status">You have not requested access yet.</p>`)
	})

	t.Run("Cancel", func(t *testing.T) {
		wantRedirect(t, env.post(t, userVerified, "", "/access-requests/3/cancel", nil), "/access-requests?cancelled=1")
		if !slices.Equal(env.req.cancelled, []int64{3}) {
			t.Errorf("cancelled %v", env.req.cancelled)
		}
		wantStatus(t, env.post(t, userVerified, "", "/access-requests/x/cancel", nil), http.StatusNotFound)
		env.req.decideErr = app.ErrRequestDecided
		defer func() { env.req.decideErr = nil }()
		body := wantStatus(t, env.post(t, userVerified, "", "/access-requests/3/cancel", nil), http.StatusConflict)
		mustContain(t, body, `role="alert"`, "This request has been decided, cancelled or has expired already.")
	})
}

func TestPendingRequests(t *testing.T) {
	env := newRequestEnv(t)

	t.Run("English", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "", "/access-requests/pending"), http.StatusOK)
		mustContain(t, body, "<h1>Pending access requests</h1>",
			`<h2 id="request-3-title">E2000001: request from Haruto Ito &lt;staff@contoso.example&gt;</h2>`,
			"I run the &lt;b&gt;desktop&lt;/b&gt; team", "(none)",
			`<form method="post" action="/access-requests/3/approve"`, "<legend>Permissions to grant</legend>",
			`<input id="approve-3-license_viewer" name="permissions" type="checkbox" value="license_viewer" checked>`,
			`<input id="approve-3-download_manager" name="permissions" type="checkbox" value="download_manager" checked>`,
			`<label for="approve-3-download_manager">Downloads</label>`,
			`<form method="post" action="/access-requests/3/deny"`, `<label for="deny-3-message">Message to the requester (optional)</label>`,
			`<button type="submit">Approve</button>`, `<button type="submit" class="btn-danger" data-confirm="Deny this request? The requester is told by mail; this cannot be undone.">Deny</button>`, `value="administrator" checked`)
		mustNotContain(t, body, `id="approve-3-administrator"`, `id="approve-3-key_reader"`)
		noInline(t, body)
	})

	t.Run("Japanese", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "ja", "/access-requests/pending?approved=1"), http.StatusOK)
		mustContain(t, body, "<h1>承認待ちのアクセス権限のリクエスト</h1>", "リクエストを承認し", "付与するアクセス権限", ">承認</button>", ">拒否</button>", "ライセンス情報")
	})

	t.Run("Empty", func(t *testing.T) {
		pending := env.req.pending
		env.req.pending = nil
		defer func() { env.req.pending = pending }()
		body := wantStatus(t, env.as(t, userVerified, "", "/access-requests/pending?denied=1"), http.StatusOK)
		mustContain(t, body, "The request was denied", `<p role="status">No requests are waiting for your decision.</p>`)
	})

	t.Run("ApproveOnlyChecked", func(t *testing.T) {
		wantRedirect(t, env.post(t, userVerified, "", "/access-requests/3/approve", url.Values{"permissions": {"license_viewer"}}),
			"/access-requests/pending?approved=1")
		if got := env.req.approved[3]; !slices.Equal(got, []models.Permission{models.PermLicenseViewer}) {
			t.Errorf("approved %v", got)
		}
	})

	t.Run("ApproveNoneChecked", func(t *testing.T) {
		delete(env.req.approved, 3)
		body := wantStatus(t, env.post(t, userVerified, "", "/access-requests/3/approve", nil), http.StatusUnprocessableEntity)
		if _, ok := env.req.approved[3]; ok {
			t.Error("approved with no permission ticked (which approves everything)")
		}
		mustContain(t, body, `id="request-3-error"`, "Tick at least one permission to approve, or deny the request.")
		mustNotContain(t, body, `value="license_viewer" checked`, `value="download_manager" checked`)
		// The other request keeps its boxes ticked.
		mustContain(t, body, `value="administrator" checked`)
	})

	t.Run("ApproveNotRequested", func(t *testing.T) {
		env.req.decideErr = models.Invalid("Approve only permissions that were requested.", models.FieldError{Field: "permissions"})
		defer func() { env.req.decideErr = nil }()
		body := wantStatus(t, env.post(t, userVerified, "", "/access-requests/3/approve", url.Values{"permissions": {"key_reader"}}), http.StatusUnprocessableEntity)
		mustContain(t, body, "Approve only permissions that were requested.")
	})

	t.Run("Deny", func(t *testing.T) {
		wantRedirect(t, env.post(t, userVerified, "", "/access-requests/5/deny", url.Values{"message": {" Ask your manager "}}),
			"/access-requests/pending?denied=1")
		if got := env.req.denied[5]; got != "Ask your manager" {
			t.Errorf("denied with %q", got)
		}
	})

	t.Run("DenyTooLong", func(t *testing.T) {
		long := strings.Repeat("あ", 501)
		body := wantStatus(t, env.post(t, userVerified, "", "/access-requests/5/deny", url.Values{"message": {long}}), http.StatusUnprocessableEntity)
		mustContain(t, body, "Keep the message to 500 characters.", long+"</textarea>",
			// The approve form of the same request keeps its box ticked.
			`value="administrator" checked`)
	})

	t.Run("Decided", func(t *testing.T) {
		env.req.decideErr = app.ErrRequestDecided
		defer func() { env.req.decideErr = nil }()
		body := wantStatus(t, env.post(t, userVerified, "", "/access-requests/3/approve", url.Values{"permissions": {"license_viewer"}}), http.StatusConflict)
		mustContain(t, body, "This request has been decided, cancelled or has expired already.")
		env.req.decideErr = models.Errorf(models.CodeNotFound, "No such access request.")
		wantStatus(t, env.post(t, userVerified, "", "/access-requests/99/deny", nil), http.StatusNotFound)
	})
}

func TestPermissionsPage(t *testing.T) {
	env := newRequestEnv(t)

	t.Run("English", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "", "/permissions"), http.StatusOK)
		mustContain(t, body, "<h1>My permissions</h1>", "<caption>Your permissions by License ID</caption>",
			"Inherited from MBSA M1000001", "Direct", "Agreement contact", "Licensing info", "Master Business and Services Agreement (MBSA)",
			`<form method="post" action="/permissions/E2000001/license_viewer/remove"`,
			`aria-label="Remove Licensing info on E2000001"`, "Changes with the agreement data", "Change it under Preferences")
		if n := strings.Count(body, "/remove\""); n != 1 {
			t.Errorf("%d remove buttons, want 1", n)
		}
		noInline(t, body)
	})

	t.Run("Japanese", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "ja", "/permissions?removed=1"), http.StatusOK)
		mustContain(t, body, "<h1>アクセス許可</h1>", "アクセス許可を削除しました。", "MBSA M1000001 から引き継ぎ", "直接付与", "契約の連絡先", "ライセンス ID", ">削除</button>")
	})

	t.Run("NotConfirmed", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userUnverified, "", "/permissions"), http.StatusOK)
		mustContain(t, body, "Confirm your work email first: your permissions are shown once it is confirmed.")
	})

	t.Run("Remove", func(t *testing.T) {
		wantRedirect(t, env.post(t, userVerified, "", "/permissions/E2000001/license_viewer/remove", nil), "/permissions?removed=1")
		if !slices.Equal(env.perm.dropped, []string{"E2000001/license_viewer"}) {
			t.Errorf("dropped %v", env.perm.dropped)
		}
	})

	for _, tc := range []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"LastAdministrator", authz.ErrLastAdministrator, http.StatusConflict, "You are the last administrator of this licence"},
		{"Inherited", authz.ErrInheritedGrant, http.StatusForbidden, "inherited from the master agreement (MBSA)"},
		{"Contact", models.Errorf(models.CodeForbidden, "This permission comes from the agreement's contact data"), http.StatusForbidden, "comes from the agreement&#39;s contact data"},
		{"NotHeld", models.Errorf(models.CodeNotFound, "You hold no such permission."), http.StatusNotFound, "You hold no such permission."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.perm.dropErr = tc.err
			defer func() { env.perm.dropErr = nil }()
			body := wantStatus(t, env.post(t, userVerified, "", "/permissions/E2000001/administrator/remove", nil), tc.status)
			mustContain(t, body, `role="alert"`, tc.want, "<caption>Your permissions by License ID</caption>")
		})
	}

	t.Run("UnknownPermission", func(t *testing.T) {
		body := wantStatus(t, env.post(t, userVerified, "", "/permissions/E2000001/owner/remove", nil), http.StatusNotFound)
		mustContain(t, body, "You hold no such permission.")
	})
}

func TestInheritancePage(t *testing.T) {
	env := newRequestEnv(t)

	t.Run("English", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "", "/inheritance?return_to=/licences"), http.StatusOK)
		mustContain(t, body, "<h1>Administrator inheritance option</h1>",
			"You become administrator of every agreement under this MBSA, including ones signed later.",
			"Agreements under the MBSA are not shown, except those you have permissions on yourself.",
			`<form method="post" action="/inheritance/M1000001"`, "MBSA M1000001 (Contoso &lt;MBSA&gt;)",
			`<input type="hidden" name="return_to" value="/licences">`, `<input type="hidden" name="ask" value="1">`,
			`<button type="submit" name="inherit" value="1">Inherit</button>`, `<button type="submit" name="inherit" value="0">Do not inherit</button>`)
		mustNotContain(t, body, "M1000009", "<MBSA>")
		noInline(t, body)
		if !env.ui.InheritancePending(context.Background(), env.perm, userVerified) {
			t.Error("InheritancePending = false with M1000001 unanswered")
		}
	})

	t.Run("All", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "", "/inheritance?all=1&return_to=https://evil.example/"), http.StatusOK)
		mustContain(t, body, "M1000001", "MBSA M1000009 (Contoso Japan)", "Current choice: inherit.", `name="return_to" value="/"`)
		mustNotContain(t, body, `name="ask"`, "evil.example")
	})

	t.Run("Japanese", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "ja", "/inheritance"), http.StatusOK)
		mustContain(t, body, "<h1>管理者権限の引き継ぎオプション</h1>", ">引き継ぎます</button>", ">引き継ぎません</button>", "今後締結されるもの")
	})

	t.Run("NotConfirmed", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userUnverified, "", "/inheritance"), http.StatusOK)
		mustContain(t, body, "Confirm your work email first")
		if env.ui.InheritancePending(context.Background(), env.perm, userUnverified) {
			t.Error("InheritancePending for a user with nothing to answer")
		}
	})

	t.Run("BadChoice", func(t *testing.T) {
		body := wantStatus(t, env.post(t, userVerified, "", "/inheritance/M1000001", url.Values{"inherit": {"yes"}}), http.StatusUnprocessableEntity)
		mustContain(t, body, `role="alert"`, "Choose Inherit or Do not inherit.")
	})

	t.Run("NotAdministered", func(t *testing.T) {
		env.perm.setErr = authz.ErrNotAllowed
		defer func() { env.perm.setErr = nil }()
		body := wantStatus(t, env.post(t, userVerified, "", "/inheritance/E2000001", url.Values{"inherit": {"1"}}), http.StatusNotFound)
		mustContain(t, body, "You administer no such master agreement.")
	})

	t.Run("DoNotInherit", func(t *testing.T) {
		wantRedirect(t, env.post(t, userVerified, "", "/inheritance/M1000001", url.Values{"inherit": {"0"}, "return_to": {"/licences"}, "ask": {"1"}}), "/licences")
		if c, ok := env.perm.choices["M1000001"]; !ok || c {
			t.Errorf("choices %v", env.perm.choices)
		}
		body := wantStatus(t, env.as(t, userVerified, "", "/inheritance?return_to=/licences"), http.StatusOK)
		mustContain(t, body, "There is nothing to choose", `<a href="/licences">Continue</a>`)
		if env.ui.InheritancePending(context.Background(), env.perm, userVerified) {
			t.Error("InheritancePending after answering")
		}
	})

	t.Run("NextPending", func(t *testing.T) {
		env.perm.choices = nil
		env.perm.mbsas = append(env.perm.mbsas, app.InheritanceView{MBSA: "M1000002"})
		defer func() { env.perm.mbsas = env.perm.mbsas[:2] }()
		wantRedirect(t, env.post(t, userVerified, "", "/inheritance/M1000001", url.Values{"inherit": {"1"}, "return_to": {"//evil.example"}, "ask": {"1"}}),
			"/inheritance?return_to=%2F")
		wantRedirect(t, env.post(t, userVerified, "", "/inheritance/M1000002", url.Values{"inherit": {"1"}, "return_to": {"/licences"}}), "/licences")
	})
}

func TestPreferencesPage(t *testing.T) {
	env := newRequestEnv(t)

	t.Run("English", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "", "/preferences?saved=1"), http.StatusOK)
		mustContain(t, body, "<h1>Preferences</h1>", "Your choice was saved.", `<form method="post" action="/preferences/language"`,
			"<legend>Language of the pages</legend>", `<input id="lang-en" name="lang" type="radio" value="en" checked>`,
			`<input id="lang-ja" name="lang" type="radio" value="ja">`, `<label for="lang-ja" lang="ja">日本語</label>`,
			"<caption>Master agreements (MBSA) you administer</caption>", "Not chosen yet",
			`<form method="post" action="/inheritance/M1000001"`, `<input type="hidden" name="return_to" value="/preferences?saved=1">`,
			`aria-label="Inherit: MBSA M1000001"`, `aria-label="Do not inherit: MBSA M1000001"`, `aria-label="Do not inherit: MBSA M1000009"`)
		mustNotContain(t, body, `aria-label="Inherit: MBSA M1000009"`)
		noInline(t, body)
	})

	t.Run("Japanese", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userVerified, "ja", "/preferences"), http.StatusOK)
		mustContain(t, body, "<h1>環境設定</h1>", "ページの表示言語", `value="ja" checked`, "管理者権限の引き継ぎ", "未選択", "言語を保存")
	})

	t.Run("SwitchLanguage", func(t *testing.T) {
		rec := env.as(t, userVerified, "", "/preferences?lang=ja")
		wantRedirect(t, rec, "/preferences")
		if c := rec.Header().Get("Set-Cookie"); !strings.HasPrefix(c, langCookie+"=ja;") {
			t.Errorf("Set-Cookie %q", c)
		}
	})

	// The Preferences form switches the pages and stores the language of
	// the user's mail.
	t.Run("SaveLanguage", func(t *testing.T) {
		rec := env.post(t, userVerified, "", "/preferences/language", url.Values{"lang": {"ja"}})
		wantRedirect(t, rec, "/preferences?saved=1")
		if c := rec.Header().Get("Set-Cookie"); !strings.HasPrefix(c, langCookie+"=ja;") {
			t.Errorf("Set-Cookie %q", c)
		}
		wantStatus(t, env.post(t, userVerified, "", "/preferences/language", url.Values{"lang": {"xx"}}), http.StatusBadRequest)
	})

	t.Run("NoMBSA", func(t *testing.T) {
		body := wantStatus(t, env.as(t, userUnverified, "", "/preferences"), http.StatusOK)
		mustContain(t, body, "Confirm your work email first")
	})

	t.Run("ChangeChoice", func(t *testing.T) {
		wantRedirect(t, env.post(t, userVerified, "", "/inheritance/M1000009", url.Values{"inherit": {"0"}, "return_to": {"/preferences?saved=1"}}),
			"/preferences?saved=1")
		if c, ok := env.perm.choices["M1000009"]; !ok || c {
			t.Errorf("choices %v", env.perm.choices)
		}
	})
}

// TestRequestMessages checks the messages the templates name by pattern,
// and that the failure notice says what the application says.
func TestRequestMessages(t *testing.T) {
	en, ja := loadMessages(t, "en"), loadMessages(t, "ja")
	var ids []string
	for _, p := range models.Programs {
		ids = append(ids, "requests.program."+string(p))
	}
	for _, p := range models.Permissions {
		ids = append(ids, "permissions.name."+string(p), "permissions.explain."+string(p))
	}
	for _, s := range []models.RequestStatus{models.RequestPending, models.RequestApproved, models.RequestDenied, models.RequestCancelled, models.RequestExpired, models.RequestFailed} {
		ids = append(ids, "requests.status."+string(s))
	}
	for _, s := range []models.GrantSource{models.SourceDirect, models.SourceContact, models.SourceInherited} {
		ids = append(ids, "permissions.source."+string(s), "permissions.fixed."+string(s))
	}
	for _, n := range []string{"created", "existing", "cancelled"} {
		ids = append(ids, "requests.notice."+n)
	}
	for _, n := range []string{"approved", "denied"} {
		ids = append(ids, "pending.notice."+n)
	}
	ids = append(ids, "requests.error.decided", "pending.error.none_checked", "pending.error.message_too_long", "pending.error.not_requested",
		"permissions.error.last_admin", "permissions.error.inherited", "permissions.error.contact", "permissions.error.not_found",
		"inheritance.error.choose", "inheritance.error.verify", "inheritance.error.not_found",
		"nav.requests", "nav.pending", "nav.permissions", "nav.preferences")
	for _, id := range ids {
		if en[id] == "" || ja[id] == "" {
			t.Errorf("message %q is missing", id)
		}
	}
	if got, want := en["requests.failed.body"], models.ErrorMessage(app.ErrRequestFailed); got != want {
		t.Errorf("requests.failed.body = %q, want the application's message %q", got, want)
	}
	if got := en["pending.error.message_too_long"]; !strings.Contains(got, strconv.Itoa(maxCommentLength)) {
		t.Errorf("pending.error.message_too_long = %q does not name the limit", got)
	}
}
