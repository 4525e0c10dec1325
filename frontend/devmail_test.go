package frontend

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/frontend/browsertest"
	"github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
)

// fakeMailbox is a DevMailbox in memory; messages are kept newest first.
type fakeMailbox struct {
	msgs []mail.DevMail
	err  error
}

func (f *fakeMailbox) List(_ context.Context, limit int) ([]mail.DevMail, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.msgs[:min(limit, len(f.msgs))], nil
}

func (f *fakeMailbox) Get(_ context.Context, id int64) (mail.DevMail, error) {
	if f.err != nil {
		return mail.DevMail{}, f.err
	}
	for _, m := range f.msgs {
		if m.ID == id {
			return m, nil
		}
	}
	return mail.DevMail{}, models.Errorf(models.CodeNotFound, "There is no such message.")
}

// verifyLink is the link of the sample verification mail; the & must come
// out escaped in HTML attributes.
const verifyLink = "/verify-email?token=AbC-123_x&lang=en"

// sampleMailbox returns a mailbox with a verification mail rendered by the
// real templates (its link on host) and an older message with markup in its
// subject and bodies.
func sampleMailbox(t testing.TB, host string) *fakeMailbox {
	t.Helper()
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Render(mail.Message{To: "hanako@example.co.jp", Language: "en", Template: mail.TemplateVerifyEmail,
		Data: map[string]any{"Name": "Hanako <b>Yamada</b>", "Link": host + verifyLink,
			"Expires": time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)}}, "OpenLSC <noreply@lsc.example.com>", 2)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeMailbox{msgs: []mail.DevMail{
		{ID: 2, MessageID: m.MessageID, Sender: m.From, Recipient: m.To, Subject: m.Subject, TextBody: m.Text,
			HTMLBody: m.HTML, CreatedAt: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)},
		{ID: 1, MessageID: "<1@x>", Sender: "noreply@lsc.example.com", Recipient: "evil@example.com",
			Subject: "<script>alert(1)</script>", TextBody: "See javascript:alert(1) and https://example.com/a.",
			HTMLBody:  `<p onclick="alert(1)">x</p><a href="javascript:alert(1)">bad</a><script>alert(2)</script>`,
			CreatedAt: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)},
	}}
}

// newDevMailServer returns a test server with the mailbox pages on box.
func newDevMailServer(t testing.TB, box DevMailbox) *testServer {
	t.Helper()
	s := newTestServer(t, Options{Dev: true})
	s.ui.MountDevMail(s.engine, box)
	return s
}

func TestDevMailList(t *testing.T) {
	s := newDevMailServer(t, sampleMailbox(t, "https://lsc.example.com"))
	t.Run("English", func(t *testing.T) {
		rec := s.get(t, "/dev/mail")
		if rec.Code != http.StatusOK {
			t.Fatalf("status = %d", rec.Code)
		}
		body := rec.Body.String()
		mustContain(t, body,
			"<h1>Development mailbox</h1>", "Development mailbox: in development mode OpenLSC sends no mail.",
			`<a href="/dev/mail/2">Confirm your work email address for OpenLSC</a>`,
			`<a href="/dev/mail/1">&lt;script&gt;alert(1)&lt;/script&gt;</a>`,
			"<td>hanako@example.co.jp</td>",
			`<time datetime="2026-03-14T09:30:00Z" data-local>14 March 2026, 09:30 UTC</time>`)
		if strings.Index(body, "/dev/mail/2") > strings.Index(body, "/dev/mail/1") {
			t.Error("the newest message is not listed first")
		}
		mustNotContain(t, body, "<script>alert", " style=")
	})
	t.Run("Japanese", func(t *testing.T) {
		body := s.get(t, "/dev/mail", "Accept-Language: ja").Body.String()
		mustContain(t, body, "<h1>開発用メールボックス</h1>", "開発モードの OpenLSC はメールを送信しません。",
			"<th scope=\"col\">宛先</th>", "<th scope=\"col\">件名</th>", "2026年3月14日 09:30 (UTC)")
	})
	t.Run("Empty", func(t *testing.T) {
		body := newDevMailServer(t, &fakeMailbox{}).get(t, "/dev/mail").Body.String()
		mustContain(t, body, "No mail yet.")
		mustNotContain(t, body, "<table")
	})
	t.Run("Error", func(t *testing.T) {
		secret := "pq: connection refused to 10.0.0.7"
		s := newDevMailServer(t, &fakeMailbox{err: errors.New(secret)})
		rec := s.get(t, "/dev/mail")
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("status = %d", rec.Code)
		}
		mustNotContain(t, rec.Body.String(), secret)
	})
}

func TestDevMailShow(t *testing.T) {
	box := sampleMailbox(t, "https://lsc.example.com")
	s := newDevMailServer(t, box)
	link := "https://lsc.example.com" + strings.ReplaceAll(verifyLink, "&", "&amp;")
	t.Run("Verification", func(t *testing.T) {
		rec := s.get(t, "/dev/mail/2")
		if rec.Code != http.StatusOK {
			t.Fatalf("status = %d", rec.Code)
		}
		body := rec.Body.String()
		mustContain(t, body,
			"<title>Confirm your work email address for OpenLSC – Development mailbox – OpenLSC</title>",
			"<h1>Confirm your work email address for OpenLSC</h1>",
			"Development mailbox: in development mode",
			"<dd>hanako@example.co.jp</dd>", "<dd>OpenLSC &lt;noreply@lsc.example.com&gt;</dd>",
			"<code>&lt;openlsc-outbox-2@lsc.example.com&gt;</code>",
			// The link is clickable in the list of links and in the text body.
			`<li><a href="`+link+`">`+link+`</a></li>`,
			`<pre class="devmail-text">Hello Hanako &lt;b&gt;Yamada&lt;/b&gt;,`,
			`<a href="`+link+`">`+link+`</a>`+"\n\nThe link works once",
			// The HTML body is shown in a sandboxed iframe, escaped into srcdoc.
			`<iframe class="devmail-html" sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="&lt;!DOCTYPE html&gt;`,
			`&lt;head&gt;&lt;base target=&#34;_blank&#34;&gt;`,
			`title="HTML version of the message"`,
			`<a href="/dev/mail">Back to the mailbox</a>`)
		if n := strings.Count(body, `<a href="`+link+`">`); n != 2 {
			t.Errorf("the verification link is clickable %d times outside the frame, want 2", n)
		}
		if got, want := rec.Header().Get("Content-Language"), "en"; got != want {
			t.Errorf("Content-Language = %q", got)
		}
	})
	t.Run("Japanese", func(t *testing.T) {
		body := s.get(t, "/dev/mail/2", "Accept-Language: ja").Body.String()
		mustContain(t, body, "<h2 id=\"links-heading\">このメールに含まれるリンク</h2>", "<dt>宛先</dt>", "テキスト版", "HTML 版",
			"メールボックスに戻る")
	})
	t.Run("HostileMessage", func(t *testing.T) {
		body := s.get(t, "/dev/mail/1").Body.String()
		mustContain(t, body, "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>",
			`<li><a href="https://example.com/a">https://example.com/a</a></li>`,
			`<a href="https://example.com/a">https://example.com/a</a>.</pre>`)
		mustNotContain(t, body, "<script>alert", `href="javascript:`, `<p onclick`)
		if strings.Contains(body, "<li><a href=\"#ZgotmplZ\"") || strings.Contains(body, ">javascript:alert(1)</a>") {
			t.Error("a javascript: URL was offered as a link")
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		for _, path := range []string{"/dev/mail/99", "/dev/mail/abc", "/dev/mail/-1", "/dev/mail/0"} {
			rec := s.get(t, path)
			if rec.Code != http.StatusNotFound {
				t.Errorf("GET %s: status = %d, want 404", path, rec.Code)
			}
		}
	})
	t.Run("Error", func(t *testing.T) {
		secret := "pq: connection refused to 10.0.0.7"
		rec := newDevMailServer(t, &fakeMailbox{err: errors.New(secret)}).get(t, "/dev/mail/2")
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("status = %d", rec.Code)
		}
		mustNotContain(t, rec.Body.String(), secret)
	})
}

func TestLinkify(t *testing.T) {
	for _, tt := range []struct {
		text string
		want []textSegment
	}{
		{"", nil},
		{"no links", []textSegment{{Text: "no links"}}},
		{"Open https://a.example/x?y=1&z=2.\n", []textSegment{{Text: "Open "},
			{Text: "https://a.example/x?y=1&z=2", URL: "https://a.example/x?y=1&z=2"}, {Text: ".\n"}}},
		{"(see http://a.example/wiki/Go_(language))", []textSegment{{Text: "(see "},
			{Text: "http://a.example/wiki/Go_(language)", URL: "http://a.example/wiki/Go_(language)"}, {Text: ")"}}},
		{"リンク https://a.example/確認", []textSegment{{Text: "リンク "},
			{Text: "https://a.example/", URL: "https://a.example/"}, {Text: "確認"}}},
		{"ftp://a.example https://", []textSegment{{Text: "ftp://a.example https://"}}},
	} {
		if got := linkify(tt.text); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("linkify(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
	}
}

func TestLinks(t *testing.T) {
	got := links("Go to https://a.example/1 or https://a.example/2.",
		`<a href="https://a.example/1">1</a><a HREF="https://a.example/3?x=1&amp;y=2">3</a><a href="mailto:x@y">m</a><a href="/rel">r</a>`)
	want := []string{"https://a.example/1", "https://a.example/2", "https://a.example/3?x=1&y=2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("links = %v, want %v", got, want)
	}
}

func TestSrcDoc(t *testing.T) {
	if got, want := srcDoc("<html><HEAD><title>x</title></HEAD></html>"), `<html><HEAD><base target="_blank"><title>x</title></HEAD></html>`; got != want {
		t.Errorf("srcDoc = %q, want %q", got, want)
	}
	if got, want := srcDoc("<p>x</p>"), `<base target="_blank"><p>x</p>`; got != want {
		t.Errorf("srcDoc = %q, want %q", got, want)
	}
}

// TestBrowserDevMail opens a verification mail in the development mailbox
// in a real browser under the production Content-Security-Policy: the HTML
// version must show in its frame, and the verification link must work.
func TestBrowserDevMail(t *testing.T) {
	var srvURL string
	box := &fakeMailbox{}
	s := newDevMailServer(t, box)
	s.engine.GET("/verify-email", func(c *gin.Context) {
		c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(`<!DOCTYPE html><title>verified</title><link rel="icon" href="data:,"><h1 id="verified">Verified `+c.Query("token")+"</h1>"))
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		w.Header().Set("X-Frame-Options", "DENY")
		s.engine.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	srvURL = srv.URL
	*box = *sampleMailbox(t, srvURL)

	ctx := browsertest.New(t, 30*time.Second)
	problems := browsertest.Watch(t, ctx)

	// The list links to the message.
	if err := chromedp.Do(ctx, chromedp.Navigate(srvURL+"/dev/mail"), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/dev/mail/2"]`)), chromedp.WaitVisible(chromedp.CSS("iframe"))); err != nil {
		t.Fatal(err)
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	if got, want := eval(`document.querySelector("h1").textContent`), "Confirm your work email address for OpenLSC"; got != want {
		t.Errorf("heading = %q, want %q", got, want)
	}

	// The verification link in the list of links works.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.devmail-links a`)),
		chromedp.WaitVisible(chromedp.CSS("#verified")),
	); err != nil {
		t.Fatal(err)
	}
	if got, want := eval(`location.pathname + location.search`), verifyLink; got != want {
		t.Errorf("the link led to %q, want %q", got, want)
	}
	if got, want := eval(`document.querySelector("h1").textContent`), "Verified AbC-123_x"; got != want {
		t.Errorf("heading after following the link = %q, want %q", got, want)
	}

	// The frame shows the HTML version: its button carries the link. A
	// sandboxed frame runs in a process of its own, so the test attaches to
	// it as a target.
	if err := chromedp.Do(ctx, chromedp.Navigate(srvURL+"/dev/mail/2"), chromedp.WaitVisible(chromedp.CSS("iframe"))); err != nil {
		t.Fatal(err)
	}
	var frameTarget target.ID
	infos, err := chromedp.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		if info.Type == "iframe" && info.URL == "about:srcdoc" {
			frameTarget = info.TargetID
		}
	}
	if frameTarget == "" {
		t.Fatalf("no frame for the HTML version among the targets %+v", infos)
	}
	fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(frameTarget))
	defer cancel()
	fctx, cancelTimeout := context.WithTimeout(fctx, 10*time.Second)
	defer cancelTimeout()
	button, err := chromedp.Run(fctx, chromedp.Text(chromedp.CSS(`a[href*="/verify-email"]`)))
	if err != nil {
		t.Fatalf("the HTML version is not displayed in its frame: %v", err)
	}
	if got, want := strings.TrimSpace(button), "Confirm my email address"; got != want {
		t.Errorf("button in the frame = %q, want %q", got, want)
	}

	// Its links open in a new tab, since pages refuse to be framed.
	opened := make(chan string, 4)
	if err := chromedp.ListenBrowser(ctx, func(ev any) {
		var info *target.Info
		switch ev := ev.(type) {
		case *target.EventTargetCreated:
			info = ev.TargetInfo
		case *target.EventTargetInfoChanged:
			info = ev.TargetInfo
		}
		if info != nil && info.Type == "page" && strings.Contains(info.URL, "/verify-email") {
			select {
			case opened <- info.URL:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(fctx, chromedp.Click(chromedp.CSS(`a[href*="/verify-email"]`))); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-opened:
		if want := srvURL + verifyLink; u != want {
			t.Errorf("the frame's link opened %s, want %s", u, want)
		}
	case <-fctx.Done():
		t.Error("the link in the frame opened no new tab")
	}

	// The mail's inline styles are refused by the policy the frame
	// inherits; that is expected and harmless.
	problems.Check(t, "style-src")
}
