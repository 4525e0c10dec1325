package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/models"
)

// fakePages renders error pages as a line of HTML naming the status and
// the error's user-facing message.
type fakePages struct{}

func (fakePages) Mount(gin.IRouter)       {}
func (fakePages) NotFound(c *gin.Context) { fakePages{}.Error(c, http.StatusNotFound, nil) }
func (fakePages) Error(c *gin.Context, status int, err error) {
	msg := ""
	if err != nil {
		msg = models.ErrorMessage(err)
	}
	c.Data(status, "text/html; charset=utf-8", []byte(fmt.Sprintf("<!doctype html><title>%d</title><p>%s</p>", status, msg)))
}

// recordHandler passes the server's log records with a given message to a
// channel.
type recordHandler struct {
	msg string
	out chan slog.Record
}

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.out <- r.Clone()
	}
	return nil
}
func (h recordHandler) WithAttrs(as []slog.Attr) slog.Handler { return attrsHandler{h, as} }
func (h recordHandler) WithGroup(string) slog.Handler         { return h }

// attrsHandler adds the attributes given by WithAttrs (the request id).
type attrsHandler struct {
	recordHandler
	attrs []slog.Attr
}

func (h attrsHandler) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	return h.recordHandler.Handle(ctx, r)
}
func (h attrsHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return attrsHandler{h.recordHandler, append(append([]slog.Attr{}, h.attrs...), as...)}
}

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// TestDownloadStorageErrors serves from a storage directory that is
// replaced, then holds an unreadable file: API clients get problem+json,
// browsers a page.
func TestDownloadStorageErrors(t *testing.T) {
	env := newDownloadsEnvWith(t, fakePages{}, slog.DiscardHandler)
	alice := env.person("alice", "alice@contoso.example")
	env.grantDirect("alice@contoso.example", "L1", models.PermDownloadManager)
	u, a := env.link(alice, env.file)
	if a.code != http.StatusOK {
		t.Fatalf("link: %d %s", a.code, a.body)
	}
	if a := env.do(alice, http.MethodGet, u); a.code != http.StatusOK || a.body != string(env.content) {
		t.Fatalf("before: %d %q", a.code, a.body)
	}

	// A new directory renamed into place, the old one removed.
	next := env.dir + ".new"
	if err := os.MkdirAll(filepath.Join(next, "p", "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(next, "p", "1", "ja.iso"), []byte("the new release"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(env.dir, env.dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, env.dir); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(env.dir + ".old"); err != nil {
		t.Fatal(err)
	}
	if a := env.do(alice, http.MethodGet, u); a.code != http.StatusOK || a.body != "the new release" {
		t.Errorf("after the directory was replaced: %d %q", a.code, a.body)
	}

	// The file replaced by a symbolic link loop: it exists, and cannot be read.
	ja := filepath.Join(env.dir, "p", "1", "ja.iso")
	if err := os.Remove(ja); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop.iso", ja); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("ja.iso", filepath.Join(env.dir, "p", "1", "loop.iso")); err != nil {
		t.Fatal(err)
	}
	a = env.do(alice, http.MethodGet, u, "Accept", "*/*")
	if a.code != http.StatusServiceUnavailable || a.problem.Status != http.StatusServiceUnavailable ||
		!strings.Contains(a.problem.Detail, "cannot be read") || a.problem.RequestID == "" {
		t.Errorf("API client, unreadable file: %d %s", a.code, a.body)
	}
	a = env.do(alice, http.MethodGet, u, "Accept", browserAccept)
	if a.code != http.StatusServiceUnavailable || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(a.body, "cannot be read") {
		t.Errorf("browser, unreadable file: %d %s %s", a.code, a.header.Get("Content-Type"), a.body)
	}

	// Other /dl errors are pages for browsers too.
	a = env.do(alice, http.MethodGet, u+"x", "Accept", browserAccept)
	if a.code != http.StatusNotFound || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Errorf("browser, bad signature: %d %s", a.code, a.body)
	}
	a = env.do(env.browser(), http.MethodGet, u, "Accept", browserAccept)
	if a.code != http.StatusUnauthorized || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Errorf("browser, signed out: %d %s", a.code, a.body)
	}
	if a := env.do(env.browser(), http.MethodGet, u); a.code != http.StatusUnauthorized || a.problem.Status != http.StatusUnauthorized {
		t.Errorf("API client, signed out: %d %s", a.code, a.body)
	}
}

// TestDownloadCutShortIsLogged drops a download after its first bytes: the
// server logs the transfer cut short at WARN, with the bytes sent, the
// bytes due and the request id.
func TestDownloadCutShortIsLogged(t *testing.T) {
	records := make(chan slog.Record, 4)
	env := newDownloadsEnvWith(t, nil, recordHandler{msg: "download cut short", out: records})
	alice := env.person("alice", "alice@contoso.example")
	env.grantDirect("alice@contoso.example", "L1", models.PermDownloadManager)
	// Larger than what the loopback socket buffers hold.
	const size = 64 << 20
	f, err := os.Create(filepath.Join(env.dir, "p", "1", "ja.iso"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	u, a := env.link(alice, env.file)
	if a.code != http.StatusOK {
		t.Fatalf("link: %d %s", a.code, a.body)
	}
	req, _ := http.NewRequest(http.MethodGet, env.base+u, nil)
	resp, err := alice.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // unread: the connection is closed
	var r slog.Record
	select {
	case r = <-records:
	case <-time.After(30 * time.Second):
		t.Fatal("no WARN about the download cut short")
	}
	attrs := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value; return true })
	if r.Level != slog.LevelWarn || attrs["bytes_total"].Int64() != size || attrs["bytes_sent"].Int64() >= size ||
		attrs["bytes_sent"].Int64() < 4096 || attrs["request_id"].String() == "" || attrs["file_id"].Int64() != env.file {
		t.Errorf("log record: %v %v", r.Level, attrs)
	}
}
