package frontend

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openlsc/openlsc/app"
)

// fakeDownloads answers the downloads page with a fixed catalog. User 1
// may download; user 2 has not confirmed the work email.
type fakeDownloads struct {
	filters []app.DownloadFilter
}

var fakeCatalog = []app.ProductDownloads{
	{Code: "win-ent", Name: "Windows Enterprise", Versions: []app.VersionDownloads{
		{ID: 11, Version: "11 24H2", Edition: "Enterprise", Released: "2024-10-01", Files: []app.FileDownload{
			{ID: 101, Name: "win11_en.iso", Language: "en", Size: 5_000_000_000, SHA256: strings.Repeat("ab", 32)},
			{ID: 102, Name: "win11_<ja>.iso", Language: "ja", Size: 1573, SHA256: strings.Repeat("cd", 32)},
		}},
		{ID: 10, Version: "10 22H2", Edition: "Enterprise", Released: "2022-10-18", Downgrade: true, Files: []app.FileDownload{
			{ID: 103, Name: "win10_en.iso", Language: "en", Size: 900, SHA256: strings.Repeat("ef", 32)},
		}},
	}},
}

func (f *fakeDownloads) List(_ context.Context, user int64, flt app.DownloadFilter) ([]app.ProductDownloads, error) {
	if user == 2 {
		return nil, app.ErrConfirmWorkEmail
	}
	f.filters = append(f.filters, flt)
	if flt.Language == "ja" {
		v := fakeCatalog[0].Versions[0]
		v.Files = v.Files[1:]
		return []app.ProductDownloads{{Code: "win-ent", Name: "Windows Enterprise", Versions: []app.VersionDownloads{v}}}, nil
	}
	if flt.Query != "" {
		return []app.ProductDownloads{}, nil
	}
	return fakeCatalog, nil
}

func (f *fakeDownloads) Link(_ context.Context, user, file int64) (string, time.Time, error) {
	if user != 1 || file < 101 || file > 103 {
		return "", time.Time{}, app.ErrNoSuchFile
	}
	return "/dl/" + strconv.FormatInt(file, 10) + "?exp=123&sig=abc", time.Unix(123, 0), nil
}

func newDownloadsServer(t *testing.T) (*testServer, *fakeDownloads) {
	t.Helper()
	s := newTestServer(t, Options{})
	d := &fakeDownloads{}
	s.ui.MountDownloads(s.engine.Group("/", fakeSession), d)
	return s, d
}

func TestDownloadsPage(t *testing.T) {
	s, d := newDownloadsServer(t)

	t.Run("SignedOut", func(t *testing.T) {
		rec := s.get(t, "/downloads?product=win-ent")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/signin?return_to="+url.QueryEscape("/downloads?product=win-ent") {
			t.Errorf("signed out: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		rec = s.post(t, "/downloads/101/link", nil)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/signin?") {
			t.Errorf("signed out POST: %d %q", rec.Code, rec.Header().Get("Location"))
		}
	})

	t.Run("English", func(t *testing.T) {
		rec := s.get(t, "/downloads", "X-Test-User: 1")
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d\n%s", rec.Code, body)
		}
		mustContain(t, body, "<h1>Downloads</h1>",
			`<form method="get" action="/downloads"`, `<label for="downloads-q">Search</label>`,
			`<label for="downloads-product">Product</label>`, `<option value="win-ent">Windows Enterprise</option>`,
			`<label for="downloads-language">Language</label>`, `<option value="ja">Japanese</option>`, `<option value="en">English</option>`,
			`<h2 id="product-win-ent">Windows Enterprise</h2>`,
			`<h3 id="version-11">11 24H2 <span class="edition">Enterprise</span></h3>`,
			`<span class="badge badge-warn">Downgrade right</span>`,
			"<caption>Files of Windows Enterprise 11 24H2 Enterprise</caption>",
			`<code class="sha256" title="`+strings.Repeat("ab", 32)+`">`+strings.Repeat("ab", 32)+`</code>`,
			"<data value=\"5000000000\">4.7\u00a0GB</data>", "<data value=\"1573\">1.5\u00a0KB</data>", "<data value=\"900\">900\u00a0bytes</data>",
			`<form method="post" action="/downloads/101/link" class="inline-form">`,
			`aria-label="Get download link: win11_en.iso">Get download link</button>`,
			"win11_&lt;ja&gt;.iso", "Released 2024-10-01")
		mustNotContain(t, body, "<script>", "style=", "win11_<ja>")
		// Only the 11 24H2 version's heading has no badge.
		if strings.Count(body, "Downgrade right") != 1 {
			t.Errorf("%d downgrade badges", strings.Count(body, "Downgrade right"))
		}
	})

	t.Run("Filtered", func(t *testing.T) {
		d.filters = nil
		rec := s.get(t, "/downloads?language=ja&q=", "X-Test-User: 1")
		body := rec.Body.String()
		mustContain(t, body, `<option value="ja" selected>Japanese</option>`, "win11_&lt;ja&gt;.iso", `<a href="/downloads">Show all downloads</a>`)
		mustNotContain(t, body, "win11_en.iso")
		if len(d.filters) != 2 || d.filters[1] != (app.DownloadFilter{Language: "ja"}) {
			t.Errorf("filters %+v", d.filters)
		}
		rec = s.get(t, "/downloads?q=nothing", "X-Test-User: 1")
		mustContain(t, rec.Body.String(), `value="nothing"`, "No download matches these filters.")
	})

	t.Run("Japanese", func(t *testing.T) {
		rec := s.get(t, "/downloads", "X-Test-User: 1", "Accept-Language: ja")
		body := rec.Body.String()
		mustContain(t, body, `lang="ja"`, "<h1>ダウンロード</h1>", "ダウングレード権", `<option value="ja">日本語</option>`,
			"<data value=\"900\">900\u00a0バイト</data>", "ダウンロード リンクを取得")
	})

	t.Run("NotConfirmed", func(t *testing.T) {
		rec := s.get(t, "/downloads", "X-Test-User: 2")
		if rec.Code != http.StatusForbidden {
			t.Errorf("status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), `<a href="/account/work-email">`)
	})

	t.Run("Link", func(t *testing.T) {
		rec := s.post(t, "/downloads/102/link", url.Values{}, "X-Test-User: 1")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/dl/102?exp=123&sig=abc" {
			t.Errorf("link: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		for _, target := range []string{"/downloads/999/link", "/downloads/abc/link"} {
			rec := s.post(t, target, url.Values{}, "X-Test-User: 1")
			if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "There is no such file") {
				t.Errorf("%s: %d", target, rec.Code)
			}
		}
	})
}
