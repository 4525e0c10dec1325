package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// MountDownloads registers the download routes:
//
//	GET  /api/v1/downloads?q=&product=&language=   on v1: what the user may download
//	POST /api/v1/downloads/{file}/link             on v1: a signed, short-lived link
//	GET  /dl/{file}?exp=&sig=                      on root: the file itself (HEAD too)
//
// The link answers {"url", "expires_at", "sha256"}; its URL is relative to
// the server and works only for the user it was made for, signed in by
// session or bearer token. /dl streams the file with Range support and
// audits each download once: a request without a Range header or whose
// range starts at byte 0 (not resumes, nor HEAD). Every handler checks the
// session itself (401 when signed out) and answers 403 until the user's
// work email is confirmed, as active reports.
//
// /dl is followed by browsers: its errors are pages (pages.Error) for
// requests that accept text/html when pages is not nil, problem+json
// otherwise. A transfer cut short is logged at WARN.
func MountDownloads(v1 gin.IRouter, root gin.IRouter, d *app.Downloads, active ActiveFunc, pages Pages) {
	h := downloadsHandler{d: d, active: active, pages: pages}
	v1.GET("/downloads", h.list)
	v1.POST("/downloads/:file/link", h.link)
	root.GET("/dl/:file", h.serve)
	root.HEAD("/dl/:file", h.serve)
}

type downloadsHandler struct {
	d      *app.Downloads
	active ActiveFunc
	pages  Pages // may be nil
}

// errSignInFirst answers a download request without a session.
var errSignInFirst = errors.New("sign in first")

// user returns the signed-in, active user, or answers the request with
// fail.
func (h downloadsHandler) user(c *gin.Context, fail func(*gin.Context, error)) (int64, bool) {
	ctx := c.Request.Context()
	user, ok := app.UserID(ctx)
	if !ok {
		fail(c, errSignInFirst)
		return 0, false
	}
	if h.active != nil {
		ok, err := h.active(ctx, user)
		if err != nil {
			fail(c, err)
			return 0, false
		}
		if !ok {
			fail(c, app.ErrConfirmWorkEmail)
			return 0, false
		}
	}
	return user, true
}

// problem answers err as problem+json.
func (h downloadsHandler) problem(c *gin.Context, err error) {
	if errors.Is(err, errSignInFirst) {
		writeProblem(c, Problem{Type: "about:blank", Title: http.StatusText(http.StatusUnauthorized),
			Status: http.StatusUnauthorized, Detail: "Sign in first.", RequestID: RequestID(c)})
		return
	}
	WriteError(c, err)
}

// page answers err as a page for browsers (requests that accept
// text/html), as problem+json for everyone else.
func (h downloadsHandler) page(c *gin.Context, err error) {
	if h.pages == nil || !acceptsHTML(c.Request) {
		h.problem(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if errors.Is(err, errSignInFirst) {
		h.pages.Error(c, http.StatusUnauthorized, nil)
	} else {
		h.pages.Error(c, StatusOf(models.ErrorCode(err)), err)
	}
	c.Abort()
}

// acceptsHTML reports whether the request asks for HTML, as a browser
// navigating does.
func acceptsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(part, ";")
		if mt = strings.TrimSpace(mt); strings.EqualFold(mt, "text/html") || strings.EqualFold(mt, "application/xhtml+xml") {
			return true
		}
	}
	return false
}

func (h downloadsHandler) list(c *gin.Context) {
	user, ok := h.user(c, h.problem)
	if !ok {
		return
	}
	f := app.DownloadFilter{Query: c.Query("q"), Product: c.Query("product"), Language: c.Query("language")}
	if len(f.Query) > 200 || len(f.Product) > 64 || len(f.Language) > 35 {
		WriteError(c, models.Invalid("Some filters of the downloads are too long.",
			models.FieldError{Field: "q", Message: "Use at most 200 characters; a product code or language tag is shorter."}))
		return
	}
	products, err := h.d.List(c.Request.Context(), user, f)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"products": products})
}

func (h downloadsHandler) link(c *gin.Context) {
	user, ok := h.user(c, h.problem)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.Param("file"), 10, 64)
	if err != nil || id <= 0 {
		WriteError(c, app.ErrNoSuchFile)
		return
	}
	l, err := h.d.SignedLink(c.Request.Context(), user, id)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"url": l.URL, "expires_at": l.ExpiresAt.UTC().Format(time.RFC3339), "sha256": l.SHA256})
}

func (h downloadsHandler) serve(c *gin.Context) {
	user, ok := h.user(c, h.page)
	if !ok {
		return
	}
	id, err1 := strconv.ParseInt(c.Param("file"), 10, 64)
	exp, err2 := strconv.ParseInt(c.Query("exp"), 10, 64)
	sig := c.Query("sig")
	if err1 != nil || err2 != nil || id <= 0 || sig == "" {
		h.page(c, app.ErrNoSuchFile)
		return
	}
	f, pf, ok := h.open(c, user, id, exp, sig)
	if !ok {
		return
	}
	defer f.Close()
	etag := `"` + pf.SHA256 + `"`
	if !h.record(c, user, pf, etag) {
		return
	}
	hd := c.Writer.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Content-Disposition", downloadDisposition(pf.Name))
	hd.Set("ETag", etag)
	hd.Set("X-Content-SHA256", pf.SHA256)
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("Accept-Ranges", "bytes")
	http.ServeContent(c.Writer, c.Request, pf.Name, f.ModTime(), f)
	logCutShort(c, pf)
}

// open checks the link and opens the file, or answers the request: with
// an error page, or (ok false as well) with a redirect to the storage's
// own short-lived URL, after auditing the download.
func (h downloadsHandler) open(c *gin.Context, user, id, exp int64, sig string) (app.StoredFile, *models.ProductFile, bool) {
	ctx := c.Request.Context()
	pf, err := h.d.Check(ctx, user, id, exp, sig)
	if err != nil {
		h.page(c, err)
		return nil, nil, false
	}
	u, redirect, err := h.d.Redirect(ctx, pf)
	if err != nil {
		h.page(c, err)
		return nil, nil, false
	}
	if redirect {
		if h.record(c, user, pf, `"`+pf.SHA256+`"`) {
			c.Header("Cache-Control", "private, no-store")
			c.Redirect(http.StatusFound, u)
		}
		return nil, nil, false
	}
	f, err := h.d.OpenFile(ctx, pf)
	if err != nil {
		h.page(c, err)
		return nil, nil, false
	}
	return f, pf, true
}

// record audits a GET that begins a download (startsDownload), or answers
// the request with an error page and reports false.
func (h downloadsHandler) record(c *gin.Context, user int64, pf *models.ProductFile, etag string) bool {
	r := c.Request
	if r.Method != http.MethodGet || !startsDownload(r, etag) {
		return true
	}
	if err := h.d.RecordDownload(r.Context(), user, pf, c.ClientIP()); err != nil {
		h.page(c, err)
		return false
	}
	return true
}

// logCutShort logs, at WARN, a transfer that ended before its last byte:
// the client went away, the server shut down or the file could not be
// read to its end.
func logCutShort(c *gin.Context, pf *models.ProductFile) {
	if c.Request.Method == http.MethodHead {
		return
	}
	status := c.Writer.Status()
	if status != http.StatusOK && status != http.StatusPartialContent {
		return
	}
	want, err := strconv.ParseInt(c.Writer.Header().Get("Content-Length"), 10, 64)
	sent := int64(max(c.Writer.Size(), 0))
	if err != nil || sent >= want {
		return
	}
	loggerFrom(c).WarnContext(c.Request.Context(), "download cut short",
		slog.Int64("file_id", pf.ID), slog.String("file", pf.Name),
		slog.Int64("bytes_sent", sent), slog.Int64("bytes_total", want), slog.Int("status", status),
		slog.Any("cause", context.Cause(c.Request.Context())))
}

// startsDownload reports whether a GET begins a download, rather than
// resuming one or asking only whether it changed: it has no Range header,
// or a range starting at byte 0, or an If-Range that no longer matches (so
// the whole file is sent), and no If-None-Match that matches.
func startsDownload(r *http.Request, etag string) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			if t = strings.TrimSpace(t); t == etag || t == "*" || t == "W/"+etag {
				return false
			}
		}
	}
	rng := strings.TrimSpace(r.Header.Get("Range"))
	if rng == "" {
		return true
	}
	if ir := r.Header.Get("If-Range"); ir != "" && strings.TrimSpace(ir) != etag {
		return true
	}
	spec, ok := strings.CutPrefix(rng, "bytes=")
	if !ok {
		return true // not a byte range: ServeContent ignores it and sends everything
	}
	first, _, _ := strings.Cut(spec, ",")
	start, _, _ := strings.Cut(strings.TrimSpace(first), "-")
	n, err := strconv.ParseInt(strings.TrimSpace(start), 10, 64)
	return err == nil && n == 0
}

// downloadDisposition makes an attachment header with an ASCII fallback
// name and the exact name in RFC 5987 form.
func downloadDisposition(name string) string {
	var ascii, enc strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r > 0x7e:
			ascii.WriteByte('_')
		default:
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if dispositionAttrChar(b) {
			enc.WriteByte(b)
			continue
		}
		enc.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(b)|0x100, 16)[1:]))
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + enc.String()
}

// dispositionAttrChar reports whether b may stand unescaped in an RFC 5987 value.
func dispositionAttrChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}
