package api_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestDatabaseDownIsUnavailable stops the PostgreSQL server under a running
// service: token and cookie requests, and the licence guard, must answer
// 503 with Retry-After (a fault of ours), never 401 or 403 (a bad
// credential); once the server is back, the same requests work again.
func TestDatabaseDownIsUnavailable(t *testing.T) {
	pg := modelstest.NewCluster(t)
	env := newAuthEnvAt(t, pg.URL())
	env.importContacts(models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "ops@contoso.example", Role: "primary"}}})
	browser := env.person("ops", "ops@contoso.example")
	token := env.token(browser)

	check := func(when string, want int) {
		t.Helper()
		for _, path := range []string{"/api/v1/me", "/api/v1/licences/M1", "/api/v1/licences/M1/users"} {
			for _, how := range []string{"token", "cookie"} {
				req, _ := http.NewRequest(http.MethodGet, env.srv.URL+path, nil)
				client := http.DefaultClient
				if how == "token" {
					req.Header.Set("Authorization", "Bearer "+token)
				} else {
					client = browser
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("%s: GET %s with a %s: %d, want %d", when, path, how, resp.StatusCode, want)
					continue
				}
				if want != http.StatusServiceUnavailable {
					continue
				}
				if resp.Header.Get("Retry-After") == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") ||
					resp.Header.Get("WWW-Authenticate") != "" {
					t.Errorf("%s: GET %s with a %s: headers %v", when, path, how, resp.Header)
				}
			}
		}
	}
	check("database up", http.StatusOK)
	pg.Stop()
	check("database down", http.StatusServiceUnavailable)
	pg.Start()
	check("database back", http.StatusOK)
}

// writeFailureCheck returns a check that, after moving the clock so that
// every read is due a last-seen touch, expects /readyz to answer ready,
// reads with a cookie and with a token to work whatever happens to writes,
// and a write (a new token) to work when ready and to answer 503 with
// Retry-After otherwise.
func writeFailureCheck(t *testing.T, env *authEnv, browser *http.Client, token string) func(when string, ready int) {
	status := func(c *http.Client, method, path string, header ...string) (int, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, env.srv.URL+path, strings.NewReader(`{"name":"more"}`))
		req.Header.Set("Content-Type", "application/json")
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	return func(when string, ready int) {
		t.Helper()
		env.clock.Add(2 * time.Minute)
		if code, h := status(http.DefaultClient, http.MethodGet, "/readyz"); code != ready || (ready == http.StatusServiceUnavailable && h.Get("Retry-After") == "") {
			t.Errorf("%s: /readyz %d, want %d", when, code, ready)
		}
		if code, _ := status(browser, http.MethodGet, "/api/v1/me"); code != http.StatusOK {
			t.Errorf("%s: GET /api/v1/me with a cookie: %d", when, code)
		}
		if code, _ := status(http.DefaultClient, http.MethodGet, "/api/v1/licences/M1", "Authorization", "Bearer "+token); code != http.StatusOK {
			t.Errorf("%s: GET /api/v1/licences/M1 with a token: %d", when, code)
		}
		want := http.StatusCreated
		if ready != http.StatusOK {
			want = http.StatusServiceUnavailable
		}
		if code, h := status(browser, http.MethodPost, "/api/v1/tokens"); code != want || (want == http.StatusServiceUnavailable && h.Get("Retry-After") == "") {
			t.Errorf("%s: POST /api/v1/tokens: %d, want %d", when, code, want)
		}
	}
}

// TestPostgresReadOnly makes the PostgreSQL server read-only under the
// running service (as a standby or a full disk's emergency setting would):
// /readyz answers 503, cookie and token reads keep working.
func TestPostgresReadOnly(t *testing.T) {
	pg := modelstest.NewCluster(t)
	env := newAuthEnvAt(t, pg.URL())
	env.importContacts(models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "ops@contoso.example", Role: "primary"}}})
	browser := env.person("ops", "ops@contoso.example")
	check := writeFailureCheck(t, env, browser, env.token(browser))
	check("writable", http.StatusOK)
	pg.SetReadOnly(true)
	check("read-only", http.StatusServiceUnavailable)
	pg.SetReadOnly(false)
	check("writable again", http.StatusOK)
}

// TestSQLiteDiskFull puts the SQLite database on a small file system and
// fills it: /readyz answers 503 while cookie and token reads keep working
// (their last-seen touch fails quietly) and a write answers 503.
func TestSQLiteDiskFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("this test mounts a small tmpfs, which needs root with CAP_SYS_ADMIN: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	env := newAuthEnvAt(t, filepath.Join(dir, "openlsc.db"))
	env.importContacts(models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "ops@contoso.example", Role: "primary"}}})
	browser := env.person("ops", "ops@contoso.example")
	check := writeFailureCheck(t, env, browser, env.token(browser))
	check("room", http.StatusOK)
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(make([]byte, 8<<20)) // stops with ENOSPC once the disk is full
	f.Close()
	check("disk full", http.StatusServiceUnavailable)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	check("room again", http.StatusOK)
}
