package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/api/limits"
)

// zeros is an endless body of spaces (valid JSON whitespace) that counts
// how much of it was read.
type zeros struct{ read atomic.Int64 }

func (z *zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	z.read.Add(int64(len(p)))
	return len(p), nil
}

// routeBodyLimit is the body limit of a documented route.
func routeBodyLimit(r string) int64 {
	if r == "POST /api/v1/operator/import" {
		return 64 << 20
	}
	return limits.DefaultBody
}

// TestEveryRouteHasABodyLimit posts a body one byte over its limit to
// every documented route that takes one: each answers 413 problem+json
// without reading it, whoever asks.
func TestEveryRouteHasABodyLimit(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	env := newAuthEnv(t)
	h := env.srv.Config.Handler
	n := 0
	for _, r := range documentedRoutes(t, doc) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
			continue
		}
		n++
		t.Run(r.String(), func(t *testing.T) {
			path := openAPIPathParam.ReplaceAllString(r.Path, "1")
			limit := routeBodyLimit(r.String())
			body := &zeros{}
			req := httptest.NewRequest(r.Method, path, io.LimitReader(body, limit+1))
			req.ContentLength = limit + 1
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var p api.Problem
			_ = json.Unmarshal(rec.Body.Bytes(), &p)
			if rec.Code != http.StatusRequestEntityTooLarge || rec.Header().Get("Content-Type") != "application/problem+json" || p.Status != 413 {
				t.Errorf("%d %s %s, want 413 problem+json", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			if body.read.Load() != 0 {
				t.Errorf("%d bytes of the refused body read", body.read.Load())
			}
		})
	}
	if n < 20 {
		t.Errorf("only %d routes with a body documented; the table is not walking the document", n)
	}
}

// TestBodyOverLimitWithoutLength sends a signed-in JSON route a body with
// no announced length, longer than the route takes: 413 problem+json once
// the limit is read, not a 422 and not the whole body.
func TestBodyOverLimitWithoutLength(t *testing.T) {
	env := newAuthEnv(t)
	c := env.person("staff", "staff@contoso.example")
	body := &zeros{}
	req, _ := http.NewRequest(http.MethodPut, env.srv.URL+"/api/v1/me/inheritance/M1", io.LimitReader(body, 10<<20))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"status":413`) {
		t.Errorf("%d %s, want 413 problem+json", resp.StatusCode, b)
	}
	if body.read.Load() >= 10<<20 {
		t.Error("the whole body was read")
	}
}

// TestImportAuthorizesBeforeReading uploads 50 MB to the operators'
// import as a signed-in customer: refused with 403 before a byte of the
// body is read.
func TestImportAuthorizesBeforeReading(t *testing.T) {
	env := newAuthEnv(t)
	c := env.person("staff", "staff@contoso.example")
	body := &zeros{}
	req := httptest.NewRequest(http.MethodPost, "/api/v1/operator/import", io.LimitReader(body, 50<<20))
	req.ContentLength = -1 // no length: only reading would find the size
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "openlsc_session", Value: sessionCookie(c, env.srv.URL)})
	rec := httptest.NewRecorder()
	env.srv.Config.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("a customer's upload: %d %s, want 403", rec.Code, rec.Body)
	}
	if n := body.read.Load(); n != 0 {
		t.Errorf("%d bytes of a non-operator's upload read before refusing it", n)
	}
}
