package frontend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/models"
)

// fakeStatus is a StatusSource that returns fixed values.
type fakeStatus struct {
	status models.Status
	err    error
}

func (f fakeStatus) Status(context.Context) (models.Status, error) { return f.status, f.err }

// sampleStatus is a status with every field set.
func sampleStatus() models.Status {
	imported := time.Date(2026, 3, 14, 9, 26, 0, 0, time.UTC)
	return models.Status{
		Database:      "sqlite",
		SchemaVersion: 7,
		SchemaLatest:  7,
		Organizations: 1234,
		Agreements:    56,
		Products:      789,
		Keys:          1234567,
		LastImport:    &imported,
	}
}

// testServer is a UI mounted on a gin engine, with its log captured.
type testServer struct {
	ui     *UI
	engine *gin.Engine
	log    *bytes.Buffer
}

// newTestServer returns a UI built from opts (with a sample status source
// and a captured logger unless set) mounted on a fresh gin engine.
func newTestServer(t testing.TB, opts Options) *testServer {
	t.Helper()
	gin.SetMode(gin.TestMode)
	var buf bytes.Buffer
	if opts.Status == nil {
		opts.Status = fakeStatus{status: sampleStatus()}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	}
	ui, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e := gin.New()
	ui.Mount(e)
	e.NoRoute(ui.NotFound)
	return &testServer{ui: ui, engine: e, log: &buf}
}

// get requests target with the given header lines ("Name: value").
func (s *testServer) get(t testing.TB, target string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			t.Fatalf("bad header %q", h)
		}
		req.Header.Add(name, strings.TrimSpace(value))
	}
	rec := httptest.NewRecorder()
	s.engine.ServeHTTP(rec, req)
	return rec
}

// mustContain fails the test unless body contains every one of wants.
func mustContain(t testing.TB, body string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("body does not contain %q:\n%s", want, body)
		}
	}
}

// mustNotContain fails the test if body contains any of unwanted.
func mustNotContain(t testing.TB, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("body contains %q:\n%s", u, body)
		}
	}
}

const (
	headingEN = "<h1>OpenLSC Licensing Service Center</h1>"
	headingJA = "<h1>OpenLSC ライセンス サービス センター</h1>"
)

func TestNew(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		ui, err := New(Options{Status: fakeStatus{}})
		if err != nil {
			t.Fatal(err)
		}
		for _, lang := range ui.i18n.langs {
			for _, page := range []string{"home.html", "notfound.html", "error.html"} {
				if ui.pages[lang.tag][page] == nil {
					t.Errorf("page %s not parsed for %s", page, lang.tag)
				}
			}
		}
	})
	t.Run("ErrTemplate", func(t *testing.T) {
		ui, err := New(Options{Status: fakeStatus{}})
		if err != nil {
			t.Fatal(err)
		}
		layout, err := fs.ReadFile(templateFS, layoutFile)
		if err != nil {
			t.Fatal(err)
		}
		for name, page := range map[string]string{
			"Unparsable":     `{{define "title"}}x{{end}}{{define "content"}}{{if}}{{end}}`,
			"UnknownFunc":    `{{define "title"}}x{{end}}{{define "content"}}{{nosuchfunc}}{{end}}`,
			"MissingContent": `{{define "title"}}x{{end}}`,
		} {
			fsys := fstest.MapFS{
				layoutFile:            {Data: layout},
				"templates/page.html": {Data: []byte(page)},
			}
			if _, err := ui.parsePages(fsys); err == nil {
				t.Errorf("%s: parsePages succeeded", name)
			}
		}
	})
	t.Run("ErrStatusRequired", func(t *testing.T) {
		if _, err := New(Options{}); err == nil {
			t.Fatal("New without a status source succeeded")
		}
	})
}

func TestHome(t *testing.T) {
	s := newTestServer(t, Options{})
	tests := []struct {
		name    string
		headers []string
		lang    string
		heading string
	}{
		{"Default", nil, "en", headingEN},
		{"AcceptLanguageEnglish", []string{"Accept-Language: en-GB,en;q=0.9"}, "en", headingEN},
		{"AcceptLanguageJapanese", []string{"Accept-Language: ja-JP,ja;q=0.9,en;q=0.8"}, "ja", headingJA},
		{"AcceptLanguagePrefersJapanese", []string{"Accept-Language: fr, ja;q=0.8, en;q=0.5"}, "ja", headingJA},
		{"AcceptLanguageUnsupported", []string{"Accept-Language: fr-FR,fr;q=0.9"}, "en", headingEN},
		{"AcceptLanguageMalformed", []string{"Accept-Language: ;;;=="}, "en", headingEN},
		{"CookieJapanese", []string{"Accept-Language: en", "Cookie: openlsc_lang=ja"}, "ja", headingJA},
		{"CookieEnglish", []string{"Accept-Language: ja", "Cookie: openlsc_lang=en"}, "en", headingEN},
		{"CookieUnsupported", []string{"Accept-Language: ja", "Cookie: openlsc_lang=xx"}, "ja", headingJA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.get(t, "/", tt.headers...)
			if got, want := rec.Code, http.StatusOK; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			if got, want := rec.Header().Get("Content-Type"), "text/html; charset=utf-8"; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			if got := rec.Header().Get("Content-Language"); got != tt.lang {
				t.Errorf("Content-Language = %q, want %q", got, tt.lang)
			}
			body := rec.Body.String()
			mustContain(t, body, `<html lang="`+tt.lang+`">`, tt.heading, `href="#main"`, `<main id="main"`)
			mustNotContain(t, body, "<script>", " style=", " onclick=")
		})
	}
}

func TestLanguageSwitch(t *testing.T) {
	s := newTestServer(t, Options{})
	t.Run("SetsCookieAndRedirects", func(t *testing.T) {
		rec := s.get(t, "/?lang=ja&page=2")
		if got, want := rec.Code, http.StatusSeeOther; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if got, want := rec.Header().Get("Location"), "/?page=2"; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}
		cookies := rec.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("got %d cookies, want 1", len(cookies))
		}
		c := cookies[0]
		if c.Name != langCookie || c.Value != "ja" || c.Path != "/" || !c.HttpOnly ||
			c.SameSite != http.SameSiteLaxMode || c.MaxAge != 365*24*60*60 {
			t.Errorf("cookie = %+v", c)
		}

		// The browser follows the redirect with the cookie.
		rec = s.get(t, "/?page=2", "Cookie: "+c.Name+"="+c.Value, "Accept-Language: en")
		mustContain(t, rec.Body.String(), `<html lang="ja">`, headingJA)
	})
	t.Run("English", func(t *testing.T) {
		rec := s.get(t, "/?lang=en", "Accept-Language: ja")
		if got, want := rec.Header().Get("Location"), "/"; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}
		if got := rec.Header().Get("Set-Cookie"); !strings.HasPrefix(got, "openlsc_lang=en;") {
			t.Errorf("Set-Cookie = %q", got)
		}
	})
	t.Run("Unsupported", func(t *testing.T) {
		rec := s.get(t, "/?lang=de")
		if got, want := rec.Code, http.StatusSeeOther; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if got := rec.Header().Get("Set-Cookie"); got != "" {
			t.Errorf("Set-Cookie = %q, want none", got)
		}
	})
	t.Run("NotFoundPage", func(t *testing.T) {
		rec := s.get(t, "/no/such/page?lang=ja")
		if got, want := rec.Header().Get("Location"), "/no/such/page"; rec.Code != http.StatusSeeOther || got != want {
			t.Errorf("status %d, Location = %q, want 303 to %q", rec.Code, got, want)
		}
	})
	t.Run("NoOpenRedirect", func(t *testing.T) {
		rec := s.get(t, "//evil.example/?lang=ja")
		if got, want := rec.Header().Get("Location"), "/"; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}
	})
	t.Run("SwitchLinks", func(t *testing.T) {
		body := s.get(t, "/").Body.String()
		mustContain(t, body,
			`<a href="?lang=ja" hreflang="ja" lang="ja">日本語</a>`,
			`<span lang="en" aria-current="true">English</span>`)
		body = s.get(t, "/", "Cookie: openlsc_lang=ja").Body.String()
		mustContain(t, body,
			`<a href="?lang=en" hreflang="en" lang="en">English</a>`,
			`<span lang="ja" aria-current="true">日本語</span>`)
	})
}

// TestHomeStatus checks the service status on the home page, which only
// operators see (TestHomeAnonymous checks that nobody else does).
func TestHomeStatus(t *testing.T) {
	t.Run("Ready", func(t *testing.T) {
		s := newOperatorServer(t, Options{})
		body := s.get(t, "/", asStatusOperator).Body.String()
		mustContain(t, body,
			"<dd>SQLite</dd>",
			"7 of 7", "Ready",
			"<dd>1,234</dd>", "<dd>56</dd>", "<dd>789</dd>", "<dd>1,234,567</dd>",
			`<time datetime="2026-03-14T09:26:00Z" data-local>14 March 2026, 09:26 UTC</time>`)
		mustNotContain(t, body, "Migrations pending", "Never", "status is unavailable")

		body = s.get(t, "/", asStatusOperator, "Accept-Language: ja").Body.String()
		mustContain(t, body,
			"<dt>データベース</dt>", "7 / 7", "準備完了", "<dd>1,234,567</dd>",
			"2026年3月14日 09:26 (UTC)")
	})
	t.Run("PendingNeverImported", func(t *testing.T) {
		st := models.Status{Database: "postgres", SchemaVersion: 3, SchemaLatest: 5}
		s := newOperatorServer(t, Options{Status: fakeStatus{status: st}})
		body := s.get(t, "/", asStatusOperator).Body.String()
		mustContain(t, body, "<dd>PostgreSQL</dd>", "3 of 5", "Migrations pending", "<dd>Never</dd>")
		mustNotContain(t, body, ">Ready<")

		body = s.get(t, "/", asStatusOperator, "Accept-Language: ja").Body.String()
		mustContain(t, body, "未適用のマイグレーションがあります", "<dd>未実施</dd>")
	})
	t.Run("Unavailable", func(t *testing.T) {
		secret := "dial tcp 10.1.2.3:5432: password authentication failed for user admin"
		s := newOperatorServer(t, Options{Status: fakeStatus{err: errors.New(secret)}})
		for _, tt := range []struct{ lang, notice string }{
			{"en", "The service status is unavailable at the moment."},
			{"ja", "現在、サービスの状態を取得できません。"},
		} {
			rec := s.get(t, "/", asStatusOperator, "Accept-Language: "+tt.lang)
			if got, want := rec.Code, http.StatusOK; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			body := rec.Body.String()
			mustContain(t, body, tt.notice, `<h2 id="status-heading">`)
			mustNotContain(t, body, secret, "10.1.2.3", "<dl")
		}
		if !strings.Contains(s.log.String(), "password authentication failed") {
			t.Errorf("status error not logged; log:\n%s", s.log)
		}
	})
}

func TestLayout(t *testing.T) {
	t.Run("DevBanner", func(t *testing.T) {
		s := newTestServer(t, Options{Dev: true})
		mustContain(t, s.get(t, "/").Body.String(), `class="dev-banner"`, "Development mode")
		mustContain(t, s.get(t, "/", "Accept-Language: ja").Body.String(), "開発モード")
		mustContain(t, s.get(t, "/nowhere").Body.String(), `class="dev-banner"`)
	})
	t.Run("NoDevBanner", func(t *testing.T) {
		s := newTestServer(t, Options{})
		mustNotContain(t, s.get(t, "/").Body.String(), "dev-banner", "Development mode")
	})
	t.Run("Version", func(t *testing.T) {
		s := newTestServer(t, Options{Version: "v1.2.3"})
		mustContain(t, s.get(t, "/").Body.String(), "version v1.2.3")
		mustContain(t, s.get(t, "/", "Accept-Language: ja").Body.String(), "バージョン v1.2.3")
	})
	// Anonymous pages have no side navigation (there is nothing to
	// navigate to before signing in), only the brand link home; the side
	// navigation of signed-in users is tested in TestSideNavigation.
	t.Run("Navigation", func(t *testing.T) {
		s := newTestServer(t, Options{})
		mustContain(t, s.get(t, "/").Body.String(), `<a class="brand" href="/">`)
		mustNotContain(t, s.get(t, "/").Body.String(), `class="sidenav"`)
		mustContain(t, s.get(t, "/nowhere").Body.String(), `<a class="brand" href="/">`)
	})
}

func TestAssets(t *testing.T) {
	s := newTestServer(t, Options{})
	wantTypes := map[string]string{
		"print.css":   "text/css; charset=utf-8",
		"app.css":     "text/css; charset=utf-8",
		"app.js":      "text/javascript; charset=utf-8",
		"favicon.svg": "image/svg+xml",
	}
	home := s.get(t, "/").Body.String()
	for name, wantType := range wantTypes {
		t.Run(name, func(t *testing.T) {
			url, err := s.ui.assets.url(name)
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^/static/[a-z]+\.[0-9a-f]{12}\.[a-z]+$`).MatchString(url) {
				t.Errorf("url = %q, want a content-hashed URL", url)
			}
			if !strings.Contains(home, `"`+url+`"`) {
				t.Errorf("home page does not link %s", url)
			}
			rec := s.get(t, url)
			if got, want := rec.Code, http.StatusOK; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			if got := rec.Header().Get("Content-Type"); got != wantType {
				t.Errorf("Content-Type = %q, want %q", got, wantType)
			}
			if got, want := rec.Header().Get("Cache-Control"), "public, max-age=31536000, immutable"; got != want {
				t.Errorf("Cache-Control = %q, want %q", got, want)
			}
			want, err := fs.ReadFile(staticFS, "static/"+name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rec.Body.Bytes(), want) {
				t.Error("body differs from the embedded file")
			}
		})
	}
	if got, want := len(s.ui.assets.hashed), len(wantTypes); got != want {
		t.Errorf("%d static files, test covers %d", got, want)
	}
	t.Run("NotFound", func(t *testing.T) {
		for _, target := range []string{"/static/app.000000000000.css", "/static/app.css", "/static/nope.js"} {
			rec := s.get(t, target)
			if got, want := rec.Code, http.StatusNotFound; got != want {
				t.Errorf("GET %s: status = %d, want %d", target, got, want)
			}
			if got := rec.Header().Get("Cache-Control"); strings.Contains(got, "immutable") {
				t.Errorf("GET %s: Cache-Control = %q", target, got)
			}
		}
	})
	t.Run("UnknownName", func(t *testing.T) {
		if _, err := s.ui.assets.url("missing.css"); err == nil {
			t.Error("url of a missing asset succeeded")
		}
	})
}

func TestNotFound(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, tt := range []struct{ lang, title string }{
		{"en", "<h1>Page not found</h1>"},
		{"ja", "<h1>ページが見つかりません</h1>"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			rec := s.get(t, "/no/such/page", "Accept-Language: "+tt.lang)
			if got, want := rec.Code, http.StatusNotFound; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			mustContain(t, rec.Body.String(), `<html lang="`+tt.lang+`">`, tt.title, `<a href="/">`)
		})
	}
}

func TestError(t *testing.T) {
	s := newTestServer(t, Options{})
	secret := "pq: relation \"product_keys\" does not exist (key=ABCDE-12345)"
	s.engine.GET("/fail/:kind", func(c *gin.Context) {
		switch c.Param("kind") {
		case "internal":
			s.ui.Error(c, http.StatusInternalServerError, errors.New(secret))
		case "wrapped":
			s.ui.Error(c, http.StatusInternalServerError, &models.Error{Code: models.CodeInternal, Message: "load keys", Err: errors.New(secret)})
		case "coded":
			// A user-facing message must not show on a 5xx either.
			s.ui.Error(c, http.StatusServiceUnavailable, models.Errorf(models.CodeConflict, "busy: %s", secret))
		case "invalid":
			s.ui.Error(c, http.StatusBadRequest, models.Invalid("The import file is not valid.",
				models.FieldError{Field: "agreements[3].parent", Message: "no such agreement"}))
		case "forbidden":
			s.ui.Error(c, http.StatusForbidden, errors.New(secret))
		case "nil":
			s.ui.Error(c, http.StatusInternalServerError, nil)
		}
	})
	tests := []struct {
		path   string
		lang   string
		status int
		wants  []string
	}{
		{"/fail/internal", "en", 500, []string{"<h1>Something went wrong</h1>", "An internal error occurred."}},
		{"/fail/internal", "ja", 500, []string{"<h1>エラーが発生しました</h1>", "内部エラーが発生しました。"}},
		{"/fail/wrapped", "en", 500, []string{"An internal error occurred."}},
		{"/fail/coded", "en", 503, []string{"<h1>Service unavailable</h1>", "temporarily unavailable"}},
		{"/fail/coded", "ja", 503, []string{"サービスを利用できません"}},
		{"/fail/invalid", "en", 400, []string{"<h1>Invalid request</h1>", "The import file is not valid.",
			"<code>agreements[3].parent</code>: no such agreement"}},
		{"/fail/forbidden", "en", 403, []string{"<h1>Access denied</h1>", "You do not have permission to do this."}},
		{"/fail/forbidden", "ja", 403, []string{"この操作を行う権限がありません。"}},
		{"/fail/nil", "en", 500, []string{"An internal error occurred."}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/fail/")+"_"+tt.lang, func(t *testing.T) {
			rec := s.get(t, tt.path, "Accept-Language: "+tt.lang)
			if got := rec.Code; got != tt.status {
				t.Fatalf("status = %d, want %d", got, tt.status)
			}
			if tt.status == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
				t.Error("a 503 page without Retry-After")
			}
			body := rec.Body.String()
			mustContain(t, body, `<html lang="`+tt.lang+`">`)
			mustContain(t, body, tt.wants...)
			mustNotContain(t, body, "product_keys", "ABCDE-12345", "pq:", "load keys", "busy")
		})
	}
	if !strings.Contains(s.log.String(), "ABCDE-12345") {
		t.Errorf("internal error not logged; log:\n%s", s.log)
	}
}

// tCall matches a call of the template function t with a literal message ID.
var tCall = regexp.MustCompile(`[{(\s]t\s+"([^"]+)"`)

// loadMessages reads one embedded locale file.
func loadMessages(t *testing.T, lang string) map[string]string {
	t.Helper()
	buf, err := localeFS.ReadFile("locales/" + lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(buf, &m); err != nil {
		t.Fatalf("%s.json: %v (want a flat object of strings)", lang, err)
	}
	return m
}

func TestMessages(t *testing.T) {
	en, ja := loadMessages(t, "en"), loadMessages(t, "ja")

	t.Run("SameKeys", func(t *testing.T) {
		for id := range en {
			if _, ok := ja[id]; !ok {
				t.Errorf("%q is in en.json but not in ja.json", id)
			}
		}
		for id := range ja {
			if _, ok := en[id]; !ok {
				t.Errorf("%q is in ja.json but not in en.json", id)
			}
		}
	})

	t.Run("NotEmptySamePlaceholders", func(t *testing.T) {
		placeholder := regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)
		names := func(s string) []string {
			var out []string
			for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
				out = append(out, m[1])
			}
			slices.Sort(out)
			return out
		}
		for id, text := range en {
			if strings.TrimSpace(text) == "" || strings.TrimSpace(ja[id]) == "" {
				t.Errorf("%q is empty in a locale", id)
			}
			if got, want := names(ja[id]), names(text); !slices.Equal(got, want) {
				t.Errorf("%q: ja placeholders %v, en placeholders %v", id, got, want)
			}
		}
	})

	t.Run("TemplatesUseKnownIDs", func(t *testing.T) {
		files, err := fs.Glob(templateFS, "templates/*.html")
		if err != nil {
			t.Fatal(err)
		}
		used := 0
		for _, file := range files {
			src, err := fs.ReadFile(templateFS, file)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tCall.FindAllStringSubmatch(string(src), -1) {
				used++
				id := m[1]
				if _, ok := en[id]; !ok {
					t.Errorf("%s: message %q is not in en.json", file, id)
				}
				if _, ok := ja[id]; !ok {
					t.Errorf("%s: message %q is not in ja.json", file, id)
				}
			}
		}
		if used < 10 {
			t.Errorf("found only %d t calls in the templates: is the pattern broken?", used)
		}
	})

	t.Run("ErrorPageIDs", func(t *testing.T) {
		for status := 400; status <= 599; status++ {
			for _, id := range []string{errorTitleID(status), errorGenericID(status)} {
				if _, ok := en[id]; !ok {
					t.Errorf("status %d: message %q is not in en.json", status, id)
				}
				if _, ok := ja[id]; !ok {
					t.Errorf("status %d: message %q is not in ja.json", status, id)
				}
			}
		}
	})
}
