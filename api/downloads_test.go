package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// downloadsEnv serves the download routes on env's store and sessions, as
// production wires them (api.MountDownloads on /api/v1 and the root), with
// files in a temporary storage directory.
type downloadsEnv struct {
	*authEnv
	base    string
	dir     string
	content []byte
	file    int64 // 日本語 セットアップ.iso, entitled to L1
	other   int64 // a file of L2's product
}

func newDownloadsEnv(t *testing.T) *downloadsEnv {
	t.Helper()
	return newDownloadsEnvWith(t, nil, slog.DiscardHandler)
}

// newDownloadsEnvWith is newDownloadsEnv with the web UI's error pages
// (nil: none) and a handler of the server's log.
func newDownloadsEnvWith(t *testing.T, pages api.Pages, log slog.Handler) *downloadsEnv {
	t.Helper()
	return newDownloadsEnvOn(t, pages, log, func(dir string) app.Storage {
		storage, err := app.NewDirStorage(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = storage.Close() })
		return storage
	})
}

// newDownloadsEnvOn is newDownloadsEnvWith on the storage that open makes
// of the directory holding the files.
func newDownloadsEnvOn(t *testing.T, pages api.Pages, log slog.Handler, open func(dir string) app.Storage) *downloadsEnv {
	t.Helper()
	env := &downloadsEnv{authEnv: newAuthEnv(t), dir: t.TempDir()}
	for i := range 100 {
		env.content = append(env.content, byte('a'+i%26))
	}
	sum := sha256.Sum256(env.content)
	for _, p := range []string{"p/1/ja.iso", "q/1/en.iso"} {
		if err := os.MkdirAll(filepath.Join(env.dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(env.dir, p), env.content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fileOf := func(name, p string) models.ImportFile {
		return models.ImportFile{Name: name, Language: "ja", Size: int64(len(env.content)), SHA256: hex.EncodeToString(sum[:]), Path: p}
	}
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{
			{Program: "open_value", Number: "L1", Organization: "C1"},
			{Program: "open_value", Number: "L2", Organization: "C1"},
		},
		Products: []models.ImportProduct{
			{ID: "p", Name: "Product P", Versions: []models.ImportVersion{{Version: "1", Files: []models.ImportFile{
				fileOf("日本語 セットアップ.iso", "p/1/ja.iso"), fileOf("gone.iso", "p/1/gone.iso")}}}},
			{ID: "q", Name: "Product Q", Versions: []models.ImportVersion{{Version: "1", Files: []models.ImportFile{fileOf("q.iso", "q/1/en.iso")}}}},
		},
		Entitlements: []models.ImportEntitlement{{Agreement: "L1", Product: "p", Version: "1"}, {Agreement: "L2", Product: "q", Version: "1"}},
	}
	if _, err := env.store.Import(context.Background(), doc, models.ImportOptions{Actor: models.Actor{Label: "test"}}); err != nil {
		t.Fatal(err)
	}
	env.store.DB().Model(&models.ProductFile{}).Where("name = ?", "日本語 セットアップ.iso").Pluck("id", &env.file)
	env.store.DB().Model(&models.ProductFile{}).Where("name = ?", "q.iso").Pluck("id", &env.other)

	d := app.NewDownloads(env.store, env.az, app.DownloadsOptions{Storage: open(env.dir)})
	base, _ := url.Parse(env.srv.URL)
	sessions := app.NewSessions(env.store, 30*time.Minute, 12*time.Hour)
	s, err := api.New(api.Options{
		Logger: slog.New(log), BaseURL: base,
		Auth: &api.Auth{Sessions: sessions, SignIn: app.NewSignIn(env.store, sessions, env.acc, 365*24*time.Hour, nil),
			Tokens: app.NewTokens(env.store)},
		Accounts: env.acc,
		Routes: []func(gin.IRouter){func(r gin.IRouter) {
			api.MountDownloads(r.Group("/api/v1"), r, d, env.acc.Active, pages)
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	env.base = srv.URL
	return env
}

type dlAnswer struct {
	code    int
	header  http.Header
	body    string
	problem api.Problem
}

func (env *downloadsEnv) do(c *http.Client, method, path string, header ...string) dlAnswer {
	env.t.Helper()
	req, _ := http.NewRequest(method, env.base+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		env.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := dlAnswer{code: resp.StatusCode, header: resp.Header, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		_ = json.Unmarshal(b, &a.problem)
	}
	return a
}

// link asks the API for a download link.
func (env *downloadsEnv) link(c *http.Client, file int64) (string, dlAnswer) {
	env.t.Helper()
	a := env.do(c, http.MethodPost, "/api/v1/downloads/"+strconv.FormatInt(file, 10)+"/link")
	var v struct {
		URL       string `json:"url"`
		ExpiresAt string `json:"expires_at"`
		SHA256    string `json:"sha256"`
	}
	_ = json.Unmarshal([]byte(a.body), &v)
	return v.URL, a
}

func (env *downloadsEnv) downloads() int64 {
	var n int64
	env.store.DB().Model(&models.AuditEvent{}).Where("kind = ?", app.AuditDownload).Count(&n)
	return n
}

func TestDownloadsAPI(t *testing.T) {
	env := newDownloadsEnv(t)
	anon := env.browser()
	if a := env.do(anon, http.MethodGet, "/api/v1/downloads"); a.code != http.StatusUnauthorized || a.problem.Status != http.StatusUnauthorized {
		t.Errorf("signed out list: %d %s", a.code, a.body)
	}
	if a := env.do(anon, http.MethodGet, "/dl/1?exp=1&sig=x"); a.code != http.StatusUnauthorized || a.problem.Status != http.StatusUnauthorized {
		t.Errorf("signed out /dl: %d %s", a.code, a.body)
	}

	alice := env.person("alice", "alice@contoso.example")
	bob := env.person("bob", "bob@contoso.example")
	env.grantDirect("alice@contoso.example", "L1", models.PermDownloadManager)
	env.grantDirect("bob@contoso.example", "L1", models.PermAdministrator)

	a := env.do(alice, http.MethodGet, "/api/v1/downloads")
	if a.code != http.StatusOK || !strings.Contains(a.body, `"name":"日本語 セットアップ.iso"`) || strings.Contains(a.body, "q.iso") {
		t.Fatalf("list: %d %s", a.code, a.body)
	}
	if a := env.do(alice, http.MethodGet, "/api/v1/downloads?q=nothing-like-it"); a.code != http.StatusOK || a.body != "{\"products\":[]}\n" && a.body != `{"products":[]}` {
		t.Errorf("filtered list: %d %s", a.code, a.body)
	}

	u, a := env.link(alice, env.file)
	if a.code != http.StatusOK || !strings.HasPrefix(u, "/dl/"+strconv.FormatInt(env.file, 10)+"?exp=") || !strings.Contains(a.body, `"sha256":"`+hex.EncodeToString(func() []byte { s := sha256.Sum256(env.content); return s[:] }())+`"`) || !strings.Contains(a.body, `"expires_at":"`) {
		t.Fatalf("link: %d %s", a.code, a.body)
	}
	if _, a := env.link(alice, env.other); a.code != http.StatusNotFound || a.problem.Status != http.StatusNotFound {
		t.Errorf("link to another licence's file: %d %s", a.code, a.body)
	}
	if _, a := env.link(alice, 999999); a.code != http.StatusNotFound {
		t.Errorf("link to an unknown file: %d %s", a.code, a.body)
	}

	t.Run("FullThenResumes", func(t *testing.T) {
		before := env.downloads()
		full := env.do(alice, http.MethodGet, u)
		sum := sha256.Sum256(env.content)
		hexSum := hex.EncodeToString(sum[:])
		if full.code != http.StatusOK || full.body != string(env.content) {
			t.Fatalf("full: %d %q", full.code, full.body)
		}
		for h, want := range map[string]string{
			"Content-Length":      "100",
			"ETag":                `"` + hexSum + `"`,
			"X-Content-SHA256":    hexSum,
			"Accept-Ranges":       "bytes",
			"Content-Type":        "application/octet-stream",
			"Content-Disposition": `attachment; filename="___ ______.iso"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E%20%E3%82%BB%E3%83%83%E3%83%88%E3%82%A2%E3%83%83%E3%83%97.iso`,
		} {
			if got := full.header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		for _, c := range []struct {
			rng, want, length, contentRange string
		}{
			{"bytes=10-19", string(env.content[10:20]), "10", "bytes 10-19/100"},
			{"bytes=-5", string(env.content[95:]), "5", "bytes 95-99/100"},
			{"bytes=60-", string(env.content[60:]), "40", "bytes 60-99/100"},
		} {
			r := env.do(alice, http.MethodGet, u, "Range", c.rng, "If-Range", `"`+hexSum+`"`)
			if r.code != http.StatusPartialContent || r.body != c.want || r.header.Get("Content-Length") != c.length || r.header.Get("Content-Range") != c.contentRange {
				t.Errorf("%s: %d %q length %s range %s", c.rng, r.code, r.body, r.header.Get("Content-Length"), r.header.Get("Content-Range"))
			}
		}
		if h := env.do(alice, http.MethodHead, u); h.code != http.StatusOK || h.header.Get("Content-Length") != "100" || h.body != "" {
			t.Errorf("HEAD: %d %v", h.code, h.header)
		}
		// One full download, two resumes and a HEAD: one audit event.
		if n := env.downloads() - before; n != 1 {
			t.Errorf("%d download events, want 1", n)
		}
		// A range from byte 0 starts a download again.
		if r := env.do(alice, http.MethodGet, u, "Range", "bytes=0-9"); r.code != http.StatusPartialContent || r.body != string(env.content[:10]) {
			t.Errorf("bytes=0-9: %d %q", r.code, r.body)
		}
		if n := env.downloads() - before; n != 2 {
			t.Errorf("%d download events after a new download, want 2", n)
		}
		var ev models.AuditEvent
		env.store.DB().Where("kind = ?", app.AuditDownload).Order("id DESC").Take(&ev)
		var details map[string]any
		_ = json.Unmarshal([]byte(ev.Details), &details)
		if details["file"] != "日本語 セットアップ.iso" || details["product"] != "Product P" || details["size"] != float64(100) || ev.AgreementID == nil {
			t.Errorf("audit event %+v", ev)
		}
	})

	t.Run("OtherUser", func(t *testing.T) {
		// Bob may download the file himself, but not with Alice's link.
		if r := env.do(bob, http.MethodGet, u); r.code != http.StatusNotFound || r.problem.Status != http.StatusNotFound || strings.Contains(r.body, "aaaa") {
			t.Errorf("Alice's link used by Bob: %d %s", r.code, r.body)
		}
	})

	t.Run("Tampered", func(t *testing.T) {
		p, _ := url.Parse(u)
		q := p.Query()
		sig := []byte(q.Get("sig"))
		sig[3] ^= 1
		q.Set("sig", string(sig))
		for _, bad := range []string{p.Path + "?" + q.Encode(), p.Path, p.Path + "?exp=abc&sig=x", "/dl/abc?" + p.RawQuery} {
			if r := env.do(alice, http.MethodGet, bad); r.code != http.StatusNotFound || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: %d %s", bad, r.code, r.body)
			}
		}
	})

	t.Run("MissingFile", func(t *testing.T) {
		var gone int64
		env.store.DB().Model(&models.ProductFile{}).Where("name = ?", "gone.iso").Pluck("id", &gone)
		l, a := env.link(alice, gone)
		if a.code != http.StatusOK {
			t.Fatalf("link: %d %s", a.code, a.body)
		}
		r := env.do(alice, http.MethodGet, l)
		if r.code != http.StatusNotFound || r.problem.Detail != "The file is not available on this server. Contact support." {
			t.Errorf("missing file: %d %s", r.code, r.body)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		env.clock.Add(app.DefaultLinkTTL + time.Second)
		defer env.clock.Add(-app.DefaultLinkTTL - time.Second)
		r := env.do(alice, http.MethodGet, u)
		if r.code != http.StatusUnprocessableEntity || r.problem.Detail != "This download link has expired; get a new one from the downloads page." {
			t.Errorf("expired: %d %s", r.code, r.body)
		}
	})

	t.Run("Unconfirmed", func(t *testing.T) {
		carol := env.browser()
		env.signIn(carol, nil)
		if r := env.do(carol, http.MethodGet, "/api/v1/downloads"); r.code != http.StatusForbidden {
			t.Errorf("unconfirmed: %d %s", r.code, r.body)
		}
	})
}
