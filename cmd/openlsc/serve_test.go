package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models/modelstest"
)

// startMain opens a development-mode Main with vars added to its
// configuration, on a free loopback port, and runs it. stop ends it and
// returns what Run returned; the test's end stops it too.
func startMain(t *testing.T, vars map[string]string) (m *Main, base string, logs *syncBuffer, stop func() error) {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{
		"OPENLSC_DATABASE_URL": modelstest.URL(t),
		"OPENLSC_STORAGE_DIR":  filepath.Join(dir, "files"),
		"OPENLSC_SECRET_KEY":   modelstest.Secret,
	}
	for k, v := range vars {
		env[k] = v
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env["OPENLSC_ADDR"] = ln.Addr().String()
	env["OPENLSC_BASE_URL"] = "http://" + ln.Addr().String()
	_ = ln.Close()
	cfg, err := serveConfig(runEnv{getenv: envOf(env), stderr: io.Discard}, []string{"--dev"})
	if err != nil {
		t.Fatal(err)
	}
	logs = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	m, err = Open(ctx, cfg, logs)
	if err != nil {
		cancel()
		t.Fatalf("open: %v\n%s", err, logs)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var result error
	var stopped bool
	stop = func() error {
		if !stopped {
			cancel()
			result, stopped = <-done, true
			_ = m.Close()
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return m, "http://" + m.Addr().String(), logs, stop
}

// devSignIn signs in as a demo persona through the development OpenID
// provider and returns the browser-like client holding the session. The
// client does not follow redirects.
func devSignIn(t *testing.T, base, subject string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	_, body := getWith(t, c, base+"/auth/login?return_to=/api/v1/me")
	m := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("persona picker:\n%.1500s", body)
	}
	resp, err := c.PostForm(base+"/dev/oidc/login", url.Values{"authRequestID": {m[1]}, "subject": {subject}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/api/v1/me" {
		t.Fatalf("sign in as %s: %d at %s", subject, resp.StatusCode, resp.Request.URL)
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// TestShutdownCutsRunningRequests stops the server while a client is
// still sending a request body, with a short shutdown timeout: the server
// cuts that request, says so in the log, and stops cleanly.
func TestShutdownCutsRunningRequests(t *testing.T) {
	_, base, logs, stop := startMain(t, map[string]string{"OPENLSC_SHUTDOWN_TIMEOUT": "200ms"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Expect: 100-continue makes the server tell us when the handler
	// starts reading the body: then the request is surely running.
	_, err = io.WriteString(conn, "POST /dev/oidc/login HTTP/1.1\r\nHost: "+strings.TrimPrefix(base, "http://")+
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue, got %q (%v)", line, err)
	}
	if _, err := io.WriteString(conn, "authRequestID="); err != nil { // and no more
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Errorf("Run after a shutdown that cut a request: %v, want nil (exit 0)", err)
	}
	out := logs.String()
	if !strings.Contains(out, "shutdown timeout reached") || !strings.Contains(out, "requests_cut=1") {
		t.Errorf("no log line counting the cut request:\n%s", out)
	}
	if !strings.Contains(out, `msg=stopped`) {
		t.Errorf("the server did not log that it stopped:\n%s", out)
	}
}

// TestWebFormAndAPIShareRateLimit registers a work email through the API
// and the web form in turn: both draw on one budget of confirmation mails
// per account and client address. Past it both answer 429 with
// Retry-After, and no more mail is queued.
func TestWebFormAndAPIShareRateLimit(t *testing.T) {
	m, base, _, _ := startMain(t, nil)
	c := devSignIn(t, base, "it-admin")
	const email = "it-admin@contoso.example"
	api := func() *http.Response {
		req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/me/work-email", strings.NewReader(`{"email": "`+email+`"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	form := func() *http.Response {
		resp, err := c.PostForm(base+"/account/work-email", url.Values{"email": {email}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i, send := range []func() *http.Response{api, form, api, form, api} {
		if resp := send(); resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("registration %d: %d", i+1, resp.StatusCode)
		}
	}
	for name, send := range map[string]func() *http.Response{"web form": form, "API": api} {
		resp := send()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("the %s past the budget: %d, Retry-After %q; want 429 with Retry-After", name, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	// Exactly the five allowed mails went out.
	ctx := context.Background()
	sent := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if _, err := m.worker.ProcessOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if sent = mailsTo(t, m, email); sent >= 5 {
			break
		}
		time.Sleep(20 * time.Millisecond) // the background worker may hold some
	}
	if sent != 5 {
		t.Errorf("%d confirmation mails to %s, want 5", sent, email)
	}
}

// mailsTo counts the mails to email in the development mailbox.
func mailsTo(t *testing.T, m *Main, email string) int {
	t.Helper()
	list, err := m.Mailbox.List(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, msg := range list {
		if msg.Recipient == email {
			n++
		}
	}
	return n
}

// TestOpenFailureReleases: when a step of Open fails (here, the address
// is taken), what the earlier steps opened is closed and the error says
// which setting to fix.
func TestOpenFailureReleases(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	env := map[string]string{
		"OPENLSC_DATABASE_URL": modelstest.URL(t),
		"OPENLSC_STORAGE_DIR":  filepath.Join(t.TempDir(), "files"),
		"OPENLSC_SECRET_KEY":   modelstest.Secret,
		"OPENLSC_ADDR":         ln.Addr().String(),
		"OPENLSC_BASE_URL":     "http://" + ln.Addr().String(),
	}
	cfg, err := serveConfig(runEnv{getenv: envOf(env), stderr: io.Discard}, []string{"--dev"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open(context.Background(), cfg, io.Discard)
	if m != nil || err == nil || !strings.Contains(err.Error(), "OPENLSC_ADDR") {
		t.Errorf("Open on a taken address: %v, %v; want an OPENLSC_ADDR error", m, err)
	}
}
