package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models/modelstest"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		dev  bool
		want []string
	}{
		{"no secret outside dev", map[string]string{}, false, []string{"OPENLSC_SECRET_KEY is not set", "--dev"}},
		{"no provider outside dev", map[string]string{"OPENLSC_SECRET_KEY": "0123456789abcdef0123456789abcdef"}, false, []string{"OPENLSC_OIDC_ISSUER", "OPENLSC_OIDC_PROVIDERS"}},
		{"no smtp outside dev", map[string]string{"OPENLSC_SECRET_KEY": "0123456789abcdef0123456789abcdef"}, false, []string{"OPENLSC_SMTP_URL is not set"}},
		{"client id without issuer", map[string]string{"OPENLSC_OIDC_CLIENT_ID": "x"}, true, []string{"OPENLSC_OIDC_ISSUER is not"}},
		{"bad providers json", map[string]string{"OPENLSC_OIDC_PROVIDERS": "[{"}, true, []string{"OPENLSC_OIDC_PROVIDERS is not a JSON list"}},
		{"provider without client", map[string]string{"OPENLSC_OIDC_PROVIDERS": `[{"name":"a","issuer":"https://a.example"}]`}, true, []string{"client id"}},
		{"duplicate provider", map[string]string{"OPENLSC_OIDC_ISSUER": "https://a.example", "OPENLSC_OIDC_CLIENT_ID": "x", "OPENLSC_OIDC_PROVIDERS": `[{"name":"sso","issuer":"https://b.example","client_id":"y"}]`}, true, []string{"used twice"}},
		{"bad smtp url", map[string]string{"OPENLSC_SMTP_URL": "mail.example.com:25"}, true, []string{"OPENLSC_SMTP_URL: write it as"}},
		{"bad duration", map[string]string{"OPENLSC_SESSION_IDLE": "soon"}, true, []string{"OPENLSC_SESSION_IDLE"}},
		{"idle longer than max", map[string]string{"OPENLSC_SESSION_IDLE": "13h"}, true, []string{"longer than OPENLSC_SESSION_MAX"}},
		{"short secret", map[string]string{"OPENLSC_SECRET_KEY": "short"}, false, []string{"OPENLSC_SECRET_KEY has 5 characters"}},
		{"bad addr", map[string]string{"OPENLSC_ADDR": "8080"}, true, []string{"OPENLSC_ADDR=\"8080\""}},
		{"bad base url", map[string]string{"OPENLSC_BASE_URL": "licensing.example.com/x"}, true, []string{"OPENLSC_BASE_URL"}},
		{"bad database url", map[string]string{"OPENLSC_DATABASE_URL": "mysql://u:hunter2@h/db"}, true, []string{"OPENLSC_DATABASE_URL", "postgres://"}},
		{"bad proxy", map[string]string{"OPENLSC_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"}, true, []string{"OPENLSC_TRUSTED_PROXIES", "proxy.local"}},
		{"bad log level", map[string]string{"OPENLSC_LOG_LEVEL": "loud"}, true, []string{"OPENLSC_LOG_LEVEL"}},
		{"bad log format", map[string]string{"OPENLSC_LOG_FORMAT": "xml"}, true, []string{"OPENLSC_LOG_FORMAT"}},
		{"pprof off loopback", map[string]string{"OPENLSC_PPROF_ADDR": "0.0.0.0:6060"}, true, []string{"OPENLSC_PPROF_ADDR", "loopback"}},
		{"bad storage url", map[string]string{"OPENLSC_STORAGE_URL": "s3://bucket?mode=copy"}, true, []string{"OPENLSC_STORAGE_URL", "mode=\"copy\""}},
		{"bad dev flag", map[string]string{"OPENLSC_DEV": "maybe"}, false, []string{"OPENLSC_DEV"}},
		{"bad leak window", map[string]string{"OPENLSC_LEAK_WINDOW": "a month"}, true, []string{"OPENLSC_LEAK_WINDOW", "30d"}},
		{"no leak networks", map[string]string{"OPENLSC_LEAK_NETWORKS": "0"}, true, []string{"OPENLSC_LEAK_NETWORKS", "1 or more"}},
		{"several at once", map[string]string{"OPENLSC_ADDR": "x", "OPENLSC_LOG_FORMAT": "xml"}, true, []string{"OPENLSC_ADDR", "OPENLSC_LOG_FORMAT"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(envOf(tc.env), tc.dev)
			if err == nil {
				err = c.checkServe()
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a password:\n%v", err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{
		"OPENLSC_SECRET_KEY": strings.Repeat("k", 32), "OPENLSC_OIDC_ISSUER": "https://idp.example/realms/x",
		"OPENLSC_OIDC_CLIENT_ID": "openlsc", "OPENLSC_SMTP_URL": "smtp://mail.example.com", "OPENLSC_MAIL_FROM": "a@example.com",
		"OPENLSC_DORMANT_AFTER": "90d",
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	if c.SessionIdle != 30*time.Minute || c.SessionMax != 12*time.Hour || c.VerifyTTL != 48*time.Hour || c.DormantAfter != 90*24*time.Hour {
		t.Errorf("timeouts %v %v %v %v", c.SessionIdle, c.SessionMax, c.VerifyTTL, c.DormantAfter)
	}
	if len(c.Providers) != 1 || c.Providers[0].Name != "sso" || c.Providers[0].Issuer != "https://idp.example/realms/x" {
		t.Errorf("providers %+v", c.Providers)
	}
	if c.Addr != "127.0.0.1:8080" || c.BaseURL.String() != "http://localhost:8080" || c.DatabaseURL != "./data/openlsc.db" || c.Dev {
		t.Errorf("defaults %+v", c)
	}
	if c.LeakNetworks != 25 || c.LeakWindow != 30*24*time.Hour {
		t.Errorf("leak detection %d networks in %v", c.LeakNetworks, c.LeakWindow)
	}
	// Dev mode is never on implicitly, and OPENLSC_DEV=true turns it on.
	c, _ = loadConfig(envOf(map[string]string{"OPENLSC_DEV": "true"}), false)
	if !c.Dev {
		t.Error("OPENLSC_DEV=true did not turn on dev mode")
	}
}

func TestDevSecretIsKept(t *testing.T) {
	dir := t.TempDir()
	c := config{DatabaseURL: filepath.Join(dir, "db", "openlsc.db")}
	a, err := devSecret(c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := devSecret(c)
	if a != b || len(a) < 32 {
		t.Errorf("dev secret %q then %q", a, b)
	}
	if fi, err := os.Stat(filepath.Join(dir, "db", "dev-secret.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file: %v %v", fi, err)
	}
	if _, err := devSecret(config{DatabaseURL: "postgres://localhost/x"}); err == nil {
		t.Error("dev mode made up a secret for PostgreSQL")
	}
}

// testServer runs `openlsc serve` on a free loopback port until the test ends.
func testServer(t *testing.T, vars map[string]string, args ...string) (baseURL string, logs *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	logs = &syncBuffer{}
	done := make(chan error, 1)
	// The base URL must name the real port: the development OpenID
	// provider's issuer and the callback are built from it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vars["OPENLSC_ADDR"] = ln.Addr().String()
	if vars["OPENLSC_BASE_URL"] == "" {
		vars["OPENLSC_BASE_URL"] = "http://" + ln.Addr().String()
	}
	_ = ln.Close()
	go func() {
		done <- run(ctx, runEnv{
			args: append([]string{"serve"}, args...), getenv: envOf(vars),
			stdin: strings.NewReader(""), stdout: io.Discard, stderr: logs,
			listening: func(a net.Addr) { addrc <- a },
		})
	}()
	select {
	case a := <-addrc:
		baseURL = "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start:\n%s", logs)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve did not shut down cleanly: %v", err)
		}
	})
	return baseURL, logs
}

// waitForMail waits (boundedly) for the mail worker to put the confirmation
// mail in the development mailbox and returns its link.
func waitForMail(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	linkRE := regexp.MustCompile(`href="(http[^"]*/verify-email\?token=[^"]+)"`)
	msgRE := regexp.MustCompile(`href="(/dev/mail/\d+)"`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, list := getWith(t, c, base+"/dev/mail")
		if m := msgRE.FindStringSubmatch(list); m != nil {
			_, msg := getWith(t, c, base+m[1])
			if l := linkRE.FindStringSubmatch(msg); l != nil {
				return strings.ReplaceAll(l[1], "&amp;", "&")
			}
			t.Fatalf("no confirmation link in the mail:\n%.2000s", msg)
		}
		time.Sleep(20 * time.Millisecond) // the worker runs in the background
	}
	t.Fatal("no mail reached the development mailbox")
	return ""
}

func getWith(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServeDev(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"OPENLSC_DATABASE_URL": modelstest.URL(t),
		"OPENLSC_STORAGE_DIR":  filepath.Join(dir, "files"),
		"OPENLSC_SECRET_KEY":   modelstest.Secret,
	}
	base, logs := testServer(t, vars, "--dev")

	resp, body := get(t, base+"/healthz")
	if resp.StatusCode != 200 || !strings.Contains(body, "ok") {
		t.Errorf("/healthz: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, base+"/readyz")
	if resp.StatusCode != 200 || !strings.Contains(body, "ready") {
		t.Errorf("/readyz: %d %s", resp.StatusCode, body)
	}

	resp, body = get(t, base+"/", "Accept-Language", "ja")
	if resp.StatusCode != 200 || !strings.Contains(body, `lang="ja"`) {
		t.Errorf("home page in Japanese: %d\n%s", resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		"Content-Security-Policy": "script-src 'self'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
	} {
		if !strings.Contains(resp.Header.Get(h), want) {
			t.Errorf("header %s = %q, want %q", h, resp.Header.Get(h), want)
		}
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent for a plain-http base URL")
	}
	if resp.Header.Get("X-Request-ID") == "" {
		t.Error("no X-Request-ID")
	}
	// The demo data was loaded into the empty database.
	if !strings.Contains(body, "M1000001") && !strings.Contains(logs.String(), "demo data loaded") {
		t.Errorf("demo data not loaded; logs:\n%s", logs)
	}

	resp, body = get(t, base+"/api/v1/nothing-here")
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, `"status":404`) {
		t.Errorf("API 404: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, _ = get(t, base+"/no-such-page")
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("page 404: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	resp, body = get(t, base+"/metrics")
	if resp.StatusCode != 200 || !strings.Contains(body, `openlsc_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
		t.Errorf("/metrics does not count requests by route:\n%.2000s", body)
	}

	// Sign in through the development OpenID provider as a demo persona.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, body = getWith(t, browser, base+"/auth/login?return_to=/api/v1/me")
	m := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(body, "it-admin@contoso.example") {
		t.Fatalf("persona picker: %d\n%.1500s", resp.StatusCode, body)
	}
	resp, err := browser.PostForm(base+"/dev/oidc/login", url.Values{"authRequestID": {m[1]}, "subject": {"it-admin"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/api/v1/me" || !strings.Contains(string(b), `"work_email_verified":false`) {
		t.Fatalf("after picking a persona: %d at %s\n%s", resp.StatusCode, resp.Request.URL, b)
	}
	// Register the work email on its page, read the mail in the development
	// mailbox, open the link, confirm: the MBSA the persona is primary
	// contact of is there.
	form, err := browser.PostForm(base+"/account/work-email", url.Values{"email": {"it-admin@contoso.example"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(form.Body)
	form.Body.Close()
	if form.StatusCode != 200 || !strings.Contains(string(b), "it-admin@contoso.example") {
		t.Fatalf("register work email: %d\n%.1000s", form.StatusCode, b)
	}
	link := waitForMail(t, browser, base)
	resp, body = getWith(t, browser, link)
	tok := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || tok == nil {
		t.Fatalf("verify page: %d\n%.1000s", resp.StatusCode, body)
	}
	done, err := browser.PostForm(base+"/verify-email", url.Values{"token": {tok[1]}})
	if err != nil {
		t.Fatal(err)
	}
	done.Body.Close()
	if done.StatusCode != 200 {
		t.Fatalf("confirm: %d", done.StatusCode)
	}
	resp, body = getWith(t, browser, base+"/api/v1/me")
	if resp.StatusCode != 200 || !strings.Contains(body, `"number":"M1000001"`) || !strings.Contains(body, `"work_email_verified":true`) {
		t.Errorf("after confirming: %d %s", resp.StatusCode, body)
	}

	// The relationship summary and a licence page.
	resp, body = getWith(t, browser, base+"/licences")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="/licences/M1000001"`) || !strings.Contains(body, "V4000004") {
		t.Errorf("/licences: %d\n%.2000s", resp.StatusCode, body)
	}
	resp, body = getWith(t, browser, base+"/licences/M1000001")
	if resp.StatusCode != 200 || !strings.Contains(body, "Contoso") {
		t.Errorf("/licences/M1000001: %d\n%.2000s", resp.StatusCode, body)
	}
	if resp, _ := getWith(t, browser, base+"/licences/V3000001"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a licence the persona cannot view: %d", resp.StatusCode)
	}
	resp, body = getWith(t, browser, base+"/licences/M1000001/users")
	if resp.StatusCode != 200 || !strings.Contains(body, "it-admin@contoso.example") {
		t.Errorf("users of M1000001: %d\n%.1500s", resp.StatusCode, body)
	}
	if resp, _ := getWith(t, browser, base+"/licences/V3000001/users"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("users of a licence the persona does not administer: %d", resp.StatusCode)
	}
	if resp, _ := getWith(t, browser, base+"/operator"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the operators' desk for a customer: %d", resp.StatusCode)
	}

	out, err := browser.Post(base+"/auth/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if resp, _ := getWith(t, browser, base+"/api/v1/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/v1/me after sign-out: %d", resp.StatusCode)
	}

	// Query strings can carry single-use tokens: they are never logged.
	get(t, base+"/?token=very-secret-token")
	if strings.Contains(logs.String(), "very-secret-token") {
		t.Error("a query string reached the log")
	}
	if strings.Contains(logs.String(), modelstest.Secret) {
		t.Error("the secret key reached the log")
	}
}

func TestServeRefusesWithoutConfiguration(t *testing.T) {
	err := run(context.Background(), runEnv{
		args: []string{"serve"}, getenv: envOf(map[string]string{}),
		stdout: io.Discard, stderr: io.Discard,
	})
	if err == nil || !strings.Contains(err.Error(), "OPENLSC_SECRET_KEY") {
		t.Errorf("serve without configuration: %v", err)
	}
}

func TestTrustedProxies(t *testing.T) {
	vars := map[string]string{
		"OPENLSC_DATABASE_URL":       modelstest.URL(t),
		"OPENLSC_SECRET_KEY":         modelstest.Secret,
		"OPENLSC_OIDC_ISSUER":        "https://idp.example",
		"OPENLSC_OIDC_CLIENT_ID":     "openlsc",
		"OPENLSC_OIDC_CLIENT_SECRET": "idp-secret",
		"OPENLSC_SMTP_URL":           "smtp://mailer:smtp-password@127.0.0.1:2525?tls=none",
		"OPENLSC_MAIL_FROM":          "OpenLSC <licensing@example.com>",
		"OPENLSC_LOG_FORMAT":         "json",
		"OPENLSC_TRUSTED_PROXIES":    "10.9.9.9",
		"OPENLSC_BASE_URL":           "https://licensing.example.com",
	}
	base, logs := testServer(t, vars)
	resp, _ := get(t, base+"/", "X-Forwarded-For", "203.0.113.7")
	if !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Error("no HSTS for an https base URL")
	}
	// The request came from 127.0.0.1, which is not a trusted proxy, so the
	// forged X-Forwarded-For must not become the client address.
	if strings.Contains(logs.String(), "203.0.113.7") {
		t.Errorf("an untrusted X-Forwarded-For was believed:\n%s", logs)
	}
	for _, secret := range []string{"idp-secret", "smtp-password"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("%s reached the log", secret)
		}
	}
}

func runCmd(t *testing.T, vars map[string]string, stdin string, args ...string) (stdout string, err error) {
	t.Helper()
	var out bytes.Buffer
	err = run(context.Background(), runEnv{
		args: args, getenv: envOf(vars), stdin: strings.NewReader(stdin), stdout: &out, stderr: io.Discard,
	})
	return out.String(), err
}

func TestImportCommand(t *testing.T) {
	vars := map[string]string{"OPENLSC_DATABASE_URL": modelstest.URL(t), "OPENLSC_SECRET_KEY": modelstest.Secret}
	if out, err := runCmd(t, vars, "", "migrate"); err != nil || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate: %q %v", out, err)
	}
	out, err := runCmd(t, vars, "", "import", "--dry-run", "../../testdata/import/valid.json")
	if err != nil || !strings.Contains(out, "Dry run") {
		t.Fatalf("dry run: %q %v", out, err)
	}
	out, err = runCmd(t, vars, "", "import", "../../testdata/import/valid.json")
	if err != nil || !strings.Contains(out, "agreements") {
		t.Fatalf("import: %q %v", out, err)
	}
	// A malformed document, read from stdin, names the bad field.
	bad := `{"organizations": [{"number": "C9", "name": "X"}],
	         "agreements": [{"program": "enterprise", "number": "E9", "organization": "C9", "parent": "M999"}]}`
	_, err = runCmd(t, vars, bad, "import", "-")
	if err == nil || !strings.Contains(err.Error(), `agreements[0].parent: agreement "M999" not found`) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("bad import: %v", err)
	}
	// Re-importing the good file changes nothing: every row is unchanged.
	out, err = runCmd(t, vars, "", "import", "../../testdata/import/valid.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n")[2:] {
		if f := strings.Fields(line); len(f) == 5 && (f[1] != "0" || f[2] != "0") {
			t.Errorf("re-import changed %s: %s", f[0], line)
		}
	}
	if _, err := runCmd(t, vars, "", "import"); err == nil {
		t.Error("import without a file succeeded")
	}
	if _, err := runCmd(t, vars, "", "frobnicate"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command: %v", err)
	}
}
