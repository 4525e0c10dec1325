package authz_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

func TestGuard(t *testing.T) {
	f := newFixture(t)
	f.grant("viewer", "E1", models.PermLicenseViewer, models.SourceDirect)
	gin.SetMode(gin.TestMode)
	r := gin.New()
	g := authz.Guard{
		Authorizer: f.a,
		Licences:   f.a,
		User: func(c *gin.Context) (int64, bool) {
			id, err := strconv.ParseInt(c.GetHeader("X-Test-User"), 10, 64)
			return id, err == nil
		},
		Fail: api.WriteError,
	}
	r.GET("/licences/:number", g.Require(authz.ActView, "number"), func(c *gin.Context) {
		c.String(http.StatusOK, "licence %d", authz.LicenceID(c))
	})
	r.GET("/licences/:number/keys", g.Require(authz.ActReadKeys, "number"), func(c *gin.Context) {
		c.String(http.StatusOK, "keys")
	})
	get := func(path string, user int64) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if user != 0 {
			req.Header.Set("X-Test-User", strconv.FormatInt(user, 10))
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	viewer, stranger := f.users["viewer"], f.users["stranger"]
	if w := get("/licences/E1", viewer); w.Code != 200 || w.Body.String() != "licence "+strconv.FormatInt(f.lic["E1"], 10) {
		t.Errorf("viewer on E1: %d %s", w.Code, w.Body)
	}
	// Not allowed, and not existing, look the same.
	denied := get("/licences/E1/keys", viewer)
	missing := get("/licences/NOPE", viewer)
	other := get("/licences/E1", stranger)
	for name, w := range map[string]*httptest.ResponseRecorder{"no key_reader": denied, "unknown licence": missing, "stranger": other} {
		if w.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", name, w.Code)
		}
	}
	strip := func(w *httptest.ResponseRecorder) string {
		// The request id differs per request; everything else must match.
		var p api.Problem
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		p.RequestID = ""
		return p.Title + "|" + p.Detail + "|" + strconv.Itoa(p.Status)
	}
	if strip(denied) != strip(missing) || strip(missing) != strip(other) {
		t.Errorf("answers differ:\n%s\n%s\n%s", denied.Body, missing.Body, other.Body)
	}
	if w := get("/licences/E1", 0); w.Code != http.StatusForbidden {
		t.Errorf("anonymous: %d", w.Code)
	}
}

// TestGuardUserFailed: when the guard's User function cannot tell who the
// user is because the database failed, the answer is that failure (503),
// not "Sign in first" (403).
func TestGuardUserFailed(t *testing.T) {
	f := newFixture(t)
	gin.SetMode(gin.TestMode)
	r := gin.New()
	down := &models.Error{Code: models.CodeUnavailable, Message: "The service is unavailable. Please try again shortly."}
	g := authz.Guard{
		Authorizer: f.a,
		Licences:   f.a,
		User: func(c *gin.Context) (int64, bool) {
			authz.UserFailed(c, down)
			return 0, false
		},
		Fail: api.WriteError,
	}
	r.GET("/licences/:number", g.Require(authz.ActView, "number"), func(c *gin.Context) { c.Status(http.StatusOK) })
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/licences/E1", nil))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("database down behind the guard: %d %v %s", w.Code, w.Header(), w.Body)
	}
}
