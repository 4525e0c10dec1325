package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/models"
)

// fakeHealth is a Health whose answers the test sets.
type fakeHealth struct {
	pingErr error
	status  models.Status
}

func (f *fakeHealth) Ping(context.Context) error { return f.pingErr }
func (f *fakeHealth) Status(context.Context) (models.Status, error) {
	return f.status, nil
}

// fakePages records what the server asked the UI to render.
type fakePages struct{ rendered []int }

func (p *fakePages) Mount(r gin.IRouter) {
	r.GET("/boom", func(*gin.Context) { panic("secret internal state") })
	r.GET("/api/v1/boom", func(*gin.Context) { panic("secret internal state") })
	r.GET("/api/v1/invalid", func(c *gin.Context) {
		WriteError(c, models.Invalid("Check the fields.", models.FieldError{Field: "email", Message: "not an email"}))
	})
	r.GET("/api/v1/internal", func(c *gin.Context) { WriteError(c, errors.New("pq: password authentication failed")) })
}
func (p *fakePages) NotFound(c *gin.Context) {
	p.rendered = append(p.rendered, 404)
	c.String(http.StatusNotFound, "page not found")
}
func (p *fakePages) Error(c *gin.Context, status int, _ error) {
	p.rendered = append(p.rendered, status)
	c.String(status, "error page")
}

func newTestServer(t *testing.T, h Health) (*Server, *fakePages, *bytes.Buffer) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	pages := &fakePages{}
	var logs bytes.Buffer
	s, err := New(Options{Health: h, Pages: pages, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s, pages, &logs
}

func do(s http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

func problemOf(t *testing.T, w *httptest.ResponseRecorder) Problem {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStatusOf(t *testing.T) {
	for code, want := range map[models.Code]int{
		models.CodeInvalid: 422, models.CodeNotFound: 404, models.CodeConflict: 409,
		models.CodeForbidden: 403, models.CodeTooMany: 429, models.CodeInternal: 500, "unknown": 500,
	} {
		if got := StatusOf(code); got != want {
			t.Errorf("StatusOf(%s) = %d, want %d", code, got, want)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	s, _, logs := newTestServer(t, &fakeHealth{})

	w := do(s, "/api/v1/invalid")
	p := problemOf(t, w)
	if w.Code != 422 || p.Status != 422 || p.Detail != "Check the fields." || len(p.Errors) != 1 || p.Errors[0].Field != "email" {
		t.Errorf("invalid: %d %+v", w.Code, p)
	}
	if p.RequestID == "" || p.RequestID != w.Header().Get("X-Request-ID") {
		t.Errorf("problem request id %q, header %q", p.RequestID, w.Header().Get("X-Request-ID"))
	}

	w = do(s, "/api/v1/internal")
	p = problemOf(t, w)
	if w.Code != 500 || strings.Contains(w.Body.String(), "password") {
		t.Errorf("internal error leaks: %d %s", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), "password authentication failed") {
		t.Error("internal error not logged")
	}

	w = do(s, "/api/v1/boom")
	if w.Code != 500 || strings.Contains(w.Body.String(), "secret") || problemOf(t, w).Status != 500 {
		t.Errorf("API panic: %d %s", w.Code, w.Body)
	}
	w = do(s, "/api/v1/nothing")
	if w.Code != 404 || problemOf(t, w).Status != 404 {
		t.Errorf("API 404: %d", w.Code)
	}
	req := httptest.NewRequest(http.MethodDelete, "/healthz", nil)
	w = httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != 405 || problemOf(t, w).Status != 405 {
		t.Errorf("method not allowed: %d", w.Code)
	}
}

func TestPageErrors(t *testing.T) {
	s, pages, _ := newTestServer(t, &fakeHealth{})
	if w := do(s, "/boom"); w.Code != 500 || strings.Contains(w.Body.String(), "secret") {
		t.Errorf("page panic: %d %s", w.Code, w.Body)
	}
	if w := do(s, "/missing"); w.Code != 404 || w.Body.String() != "page not found" {
		t.Errorf("page 404: %d %s", w.Code, w.Body)
	}
	if len(pages.rendered) != 2 || pages.rendered[0] != 500 || pages.rendered[1] != 404 {
		t.Errorf("pages rendered %v", pages.rendered)
	}
}

func TestReady(t *testing.T) {
	h := &fakeHealth{status: models.Status{Database: "sqlite", SchemaVersion: 1, SchemaLatest: 1}}
	s, _, _ := newTestServer(t, h)
	if w := do(s, "/readyz"); w.Code != 200 {
		t.Errorf("ready: %d %s", w.Code, w.Body)
	}
	h.status.SchemaLatest = 2
	if w := do(s, "/readyz"); w.Code != 503 || !strings.Contains(problemOf(t, w).Detail, "migrations") {
		t.Errorf("pending migrations: %d %s", w.Code, w.Body)
	}
	h.pingErr = errors.New("connection refused to 10.0.0.5")
	w := do(s, "/readyz")
	if w.Code != 503 || strings.Contains(w.Body.String(), "10.0.0.5") {
		t.Errorf("database down: %d %s", w.Code, w.Body)
	}
	if w := do(s, "/healthz"); w.Code != 200 {
		t.Errorf("healthz with the database down: %d", w.Code)
	}
}

func TestRequestID(t *testing.T) {
	s, _, logs := newTestServer(t, &fakeHealth{})
	w := do(s, "/api/v1/nothing", "X-Request-ID", "proxy-assigned-id-123")
	if got := w.Header().Get("X-Request-ID"); got != "proxy-assigned-id-123" {
		t.Errorf("well-formed request id replaced by %q", got)
	}
	if !strings.Contains(logs.String(), `"request_id":"proxy-assigned-id-123"`) {
		t.Error("request id not in the log")
	}
	w = do(s, "/api/v1/nothing", "X-Request-ID", "bad id\nforged-log-line")
	if got := w.Header().Get("X-Request-ID"); strings.Contains(got, "forged") || len(got) != 24 {
		t.Errorf("malformed request id kept: %q", got)
	}
}
