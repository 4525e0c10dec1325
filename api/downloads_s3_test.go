package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// newS3DownloadsEnv serves downloads from an S3-compatible server started
// in the test (gofakes3), holding the files of the storage directory under
// the prefix "files/" of the bucket "openlsc". The storage URL gives the
// mode (redirect or stream).
func newS3DownloadsEnv(t *testing.T, mode string) (*downloadsEnv, *httptest.Server) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("openlsc"); err != nil {
		t.Fatal(err)
	}
	fake := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(fake.Close)
	env := newDownloadsEnvOn(t, nil, slog.DiscardHandler, func(dir string) app.Storage {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			meta := map[string]string{"Last-Modified": time.Now().UTC().Format(http.TimeFormat)} // as gofakes3's PUT sets it
			_, err = backend.PutObject("openlsc", "files/"+filepath.ToSlash(rel), meta, bytes.NewReader(b), int64(len(b)), nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		opts, err := app.ParseS3URL("s3://openlsc/files?endpoint=" + url.QueryEscape(fake.URL) + "&region=eu-west-1&presign=2m&mode=" + mode)
		if err != nil {
			t.Fatal(err)
		}
		opts.Credentials = credentials.NewStaticV4("test-key", "test-secret", "")
		s, err := app.NewS3Storage(opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	})
	return env, fake
}

// follow asks OpenLSC for u, then the store for the URL it redirects to,
// with the same headers, as a browser or download manager does.
func follow(t *testing.T, env *downloadsEnv, c *http.Client, u string, header ...string) dlAnswer {
	t.Helper()
	r := env.do(noFollow(c), http.MethodGet, u, header...)
	if r.code != http.StatusFound {
		t.Fatalf("no redirect: %d %s", r.code, r.body)
	}
	req, _ := http.NewRequest(http.MethodGet, r.header.Get("Location"), nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return dlAnswer{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

// noFollow is c not following redirects.
func noFollow(c *http.Client) *http.Client {
	n := *c
	n.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &n
}

// TestDownloadsS3Redirect: /dl checks the link, audits the download and
// answers 302 to a presigned URL of the store that expires in minutes;
// following it gives the file, Range included; a resume is not audited
// again; an expired link is refused without a redirect.
func TestDownloadsS3Redirect(t *testing.T) {
	env, fake := newS3DownloadsEnv(t, "redirect")
	alice := env.person("alice", "alice@contoso.example")
	env.grantDirect("alice@contoso.example", "L1", models.PermDownloadManager)
	u, a := env.link(alice, env.file)
	if a.code != http.StatusOK {
		t.Fatalf("link: %d %s", a.code, a.body)
	}

	r := env.do(noFollow(alice), http.MethodGet, u)
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.code != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), fake.URL+"/openlsc/files/p/1/ja.iso?") {
		t.Fatalf("redirect: %d %q", r.code, r.header.Get("Location"))
	}
	q := loc.Query()
	if q.Get("X-Amz-Expires") != "120" || q.Get("X-Amz-Signature") == "" ||
		!strings.Contains(q.Get("response-content-disposition"), "filename*=UTF-8''%E6%97%A5%E6%9C%AC") {
		t.Errorf("presigned URL: %s", loc)
	}
	if r.header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
	}
	if n := env.downloads(); n != 1 {
		t.Errorf("audit events after the redirect: %d, want 1", n)
	}

	if r := follow(t, env, alice, u); r.code != http.StatusOK || r.body != string(env.content) ||
		!strings.Contains(r.header.Get("Content-Disposition"), "%E6%97%A5%E6%9C%AC") {
		t.Errorf("followed: %d %q %v", r.code, r.body, r.header)
	}
	r = follow(t, env, alice, u, "Range", "bytes=10-19")
	if r.code != http.StatusPartialContent || r.body != string(env.content[10:20]) || r.header.Get("Content-Range") != "bytes 10-19/100" {
		t.Errorf("resumed range: %d %q %q", r.code, r.body, r.header.Get("Content-Range"))
	}
	if n := env.downloads(); n != 2 {
		t.Errorf("audit events: %d, want 2 (two downloads from the start, one resume)", n)
	}

	env.clock.Add(app.DefaultLinkTTL + time.Second)
	defer env.clock.Add(-app.DefaultLinkTTL - time.Second)
	if r := env.do(noFollow(alice), http.MethodGet, u); r.code != http.StatusUnprocessableEntity || r.header.Get("Location") != "" {
		t.Errorf("expired link: %d %q", r.code, r.header.Get("Location"))
	}
	if n := env.downloads(); n != 2 {
		t.Errorf("audit events after an expired link: %d, want 2", n)
	}
}

// TestDownloadsS3Stream: with mode=stream OpenLSC serves the object's
// bytes itself, with Range, resume and conditional requests; a missing
// object is the unavailable-file answer; an expired link is refused.
func TestDownloadsS3Stream(t *testing.T) {
	env, _ := newS3DownloadsEnv(t, "stream")
	alice := env.person("alice", "alice@contoso.example")
	env.grantDirect("alice@contoso.example", "L1", models.PermDownloadManager)
	u, _ := env.link(alice, env.file)

	r := env.do(alice, http.MethodGet, u)
	if r.code != http.StatusOK || r.body != string(env.content) || r.header.Get("Content-Length") != "100" || r.header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("whole: %d %q %v", r.code, r.body, r.header)
	}
	etag := r.header.Get("ETag")
	r = env.do(alice, http.MethodGet, u, "Range", "bytes=40-", "If-Range", etag)
	if r.code != http.StatusPartialContent || r.body != string(env.content[40:]) || r.header.Get("Content-Range") != "bytes 40-99/100" {
		t.Errorf("resume: %d %q %q", r.code, r.body, r.header.Get("Content-Range"))
	}
	r = env.do(alice, http.MethodGet, u, "Range", "bytes=0-4,90-94")
	if r.code != http.StatusPartialContent || !strings.Contains(r.body, string(env.content[90:95])) || !strings.HasPrefix(r.header.Get("Content-Type"), "multipart/byteranges") {
		t.Errorf("two ranges: %d %q", r.code, r.header.Get("Content-Type"))
	}
	if r := env.do(alice, http.MethodHead, u); r.code != http.StatusOK || r.header.Get("Content-Length") != "100" {
		t.Errorf("HEAD: %d %v", r.code, r.header)
	}
	if n := env.downloads(); n != 2 {
		t.Errorf("audit events: %d, want 2 (the whole file, the two ranges from byte 0)", n)
	}

	var gone int64
	env.store.DB().Model(&models.ProductFile{}).Where("name = ?", "gone.iso").Pluck("id", &gone)
	g, _ := env.link(alice, gone)
	if r := env.do(alice, http.MethodGet, g); r.code != http.StatusNotFound || r.problem.Detail != app.ErrFileUnavailable.Error() {
		t.Errorf("missing object: %d %s", r.code, r.body)
	}

	env.clock.Add(app.DefaultLinkTTL + time.Second)
	defer env.clock.Add(-app.DefaultLinkTTL - time.Second)
	if r := env.do(alice, http.MethodGet, u); r.code != http.StatusUnprocessableEntity {
		t.Errorf("expired link: %d %s", r.code, r.body)
	}
	if n := env.downloads(); n != 2 {
		t.Errorf("audit events: %d, want 2", n)
	}
}
