package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/cookiejar"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/openlsc/openlsc/models/modelstest"
)

// smtpSink is a real SMTP server (go-smtp) on loopback that hands every
// message it receives to a channel.
type smtpSink struct {
	addr string
	msgs chan []byte
}

func newSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	sink := &smtpSink{msgs: make(chan []byte, 16)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return sinkSession{sink}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sink
}

type sinkSession struct{ sink *smtpSink }

func (sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (sinkSession) Reset()                               {}
func (sinkSession) Logout() error                        { return nil }
func (s sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err == nil {
		s.sink.msgs <- b
	}
	return err
}

// textPart returns the decoded text/plain part of a raw MIME message.
func textPart(t *testing.T, raw []byte) (subject, text string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			var r io.Reader = p
			if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
				r = quotedprintable.NewReader(p)
			}
			b, _ := io.ReadAll(r)
			return subject, string(b)
		}
	}
}

// TestExternalProviderAndSMTP runs the production configuration: no dev
// mode, an OpenID provider (mockoidc) and an SMTP server (go-smtp), both
// real protocol peers on loopback, configured only by the environment.
func TestExternalProviderAndSMTP(t *testing.T) {
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Shutdown() })
	sink := newSMTPSink(t)
	cfg := op.Config()
	vars := map[string]string{
		"OPENLSC_DATABASE_URL":       modelstest.URL(t),
		"OPENLSC_SECRET_KEY":         modelstest.Secret,
		"OPENLSC_OIDC_ISSUER":        cfg.Issuer,
		"OPENLSC_OIDC_CLIENT_ID":     cfg.ClientID,
		"OPENLSC_OIDC_CLIENT_SECRET": cfg.ClientSecret,
		"OPENLSC_SMTP_URL":           "smtp://" + sink.addr + "?tls=none",
		"OPENLSC_MAIL_FROM":          "OpenLSC <licensing@lsc.example>",
	}
	// Agreement data naming the person as a contact, loaded by the CLI.
	doc := `{"organizations": [{"number": "C1", "name": "Contoso"}],
	         "agreements": [{"program": "mbsa", "number": "M7", "organization": "C1",
	                         "contacts": [{"email": "dana@contoso.example", "role": "primary"}]}]}`
	file := filepath.Join(t.TempDir(), "agreements.json")
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, vars, "", "import", file); err != nil {
		t.Fatal(err)
	}
	base, _ := testServer(t, vars)
	// The development provider and mailbox exist in dev mode only.
	for _, path := range []string{"/dev/oidc/.well-known/openid-configuration", "/dev/oidc/login", "/dev/mail"} {
		if resp, _ := get(t, base+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s outside dev mode: %d, want 404", path, resp.StatusCode)
		}
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	op.QueueUser(&mockoidc.MockUser{Subject: "dana", Email: "dana.home@idp.example"})
	resp, body := getWith(t, browser, base+"/auth/login?return_to=/api/v1/me")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/api/v1/me" {
		t.Fatalf("sign-in: %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
	}

	req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/me/work-email", strings.NewReader(`{"email": "dana@contoso.example"}`))
	req.Header.Set("Content-Type", "application/json")
	put, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	put.Body.Close()
	if put.StatusCode != http.StatusAccepted {
		t.Fatalf("register work email: %d", put.StatusCode)
	}

	var raw []byte
	select {
	case raw = <-sink.msgs:
	case <-time.After(15 * time.Second):
		t.Fatal("no confirmation mail reached the SMTP server")
	}
	subject, text := textPart(t, raw)
	m := regexp.MustCompile(`/verify-email\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(text)
	if subject == "" || m == nil || !strings.Contains(text, base) {
		t.Fatalf("confirmation mail: subject %q\n%s", subject, text)
	}

	b, _ := json.Marshal(map[string]string{"token": m[1]})
	req, _ = http.NewRequest(http.MethodPost, base+"/api/v1/me/work-email/verify", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	ok, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ok.Body.Close()
	if ok.StatusCode != http.StatusOK {
		t.Fatalf("verify: %d", ok.StatusCode)
	}
	_, body = getWith(t, browser, base+"/api/v1/me")
	if !strings.Contains(body, `"number":"M7"`) || !strings.Contains(body, `"administrator"`) {
		t.Errorf("after confirming: %s", body)
	}
	// Exactly one mail was sent so far.
	select {
	case extra := <-sink.msgs:
		t.Errorf("a second mail was sent:\n%.500s", extra)
	default:
	}

	// A colleague signs in, confirms, and asks for access to M7: the
	// administrator's notification arrives over SMTP, naming the requester
	// but not telling the requester who the administrator is.
	jar2, _ := cookiejar.New(nil)
	colleague := &http.Client{Jar: jar2}
	op.QueueUser(&mockoidc.MockUser{Subject: "erik", Email: "erik@idp.example"})
	getWith(t, colleague, base+"/auth/login?return_to=/api/v1/me")
	call := func(c *http.Client, method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	call(colleague, http.MethodPut, "/api/v1/me/work-email", `{"email": "erik@contoso.example"}`)
	var confirm []byte
	select {
	case confirm = <-sink.msgs:
	case <-time.After(15 * time.Second):
		t.Fatal("no confirmation mail for the colleague")
	}
	_, ctext := textPart(t, confirm)
	tok := regexp.MustCompile(`/verify-email\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(ctext)
	call(colleague, http.MethodPost, "/api/v1/me/work-email/verify", `{"token": "`+tok[1]+`"}`)
	code, body := call(colleague, http.MethodPost, "/api/v1/access-requests", `{"program": "mbsa", "license_number": "M7", "permissions": ["license_viewer"]}`)
	if code != http.StatusCreated || strings.Contains(body, "dana") {
		t.Fatalf("access request: %d %s", code, body)
	}
	select {
	case raw = <-sink.msgs:
	case <-time.After(15 * time.Second):
		t.Fatal("the administrator was not mailed about the request")
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, text = textPart(t, raw)
	if !strings.Contains(msg.Header.Get("To"), "dana@contoso.example") || !strings.Contains(subject, "M7") || !strings.Contains(text, "erik@contoso.example") {
		t.Errorf("request notification: to %q, subject %q\n%s", msg.Header.Get("To"), subject, text)
	}
}
