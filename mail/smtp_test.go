package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// secretPassword is the SMTP password of the tests; no error may show it.
const secretPassword = "s3cr3t-Pa55word"

func TestNewSMTP(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		for _, tt := range []struct{ url, addr string }{
			{"smtp://mail.example.com", "mail.example.com:587"},
			{"smtp://mail.example.com?tls=starttls", "mail.example.com:587"},
			{"smtp://mail.example.com?tls=tls", "mail.example.com:465"},
			{"smtp://mail.example.com?tls=none", "mail.example.com:25"},
			{"smtp://u:p@mail.example.com:2525?tls=none&auth=login", "mail.example.com:2525"},
			{"smtp://[::1]:1025?tls=none", "[::1]:1025"},
		} {
			s, err := NewSMTP(tt.url, "noreply@example.com")
			if err != nil {
				t.Errorf("%s: %v", tt.url, err)
				continue
			}
			if got := s.Addr(); got != tt.addr {
				t.Errorf("%s: Addr = %s, want %s", tt.url, got, tt.addr)
			}
		}
	})
	t.Run("ErrorsHideThePassword", func(t *testing.T) {
		for _, url := range []string{
			"smtp://user:" + secretPassword + "@mail.example.com:notaport",
			"smtp://user:" + secretPassword + "@mail.example.com:99999",
			"smtp://user:" + secretPassword + "@mail.example.com?tls=maybe",
			"smtp://user:" + secretPassword + "@mail.example.com?auth=custom",
			"smtp://user:" + secretPassword + "@mail.example.com?auth=plain-noenc",
			"smtp://user:" + secretPassword + "@mail.example.com?port=25",
			"smtps://user:" + secretPassword + "@mail.example.com",
			"smtp://user:" + secretPassword + "@mail example.com",
			"smtp://user:" + secretPassword + "@",
			"smtp://user:" + secretPassword + "@mail.example.com/path",
			"smtp://user:" + secretPassword + "@mail.example.com:25%",
			"mail.example.com:25",
		} {
			_, err := NewSMTP(url, "noreply@example.com")
			if err == nil {
				t.Errorf("%s: no error", url)
				continue
			}
			if strings.Contains(err.Error(), secretPassword) {
				t.Errorf("the error shows the password: %v", err)
			}
		}
	})
	t.Run("BadFrom", func(t *testing.T) {
		if _, err := NewSMTP("smtp://mail.example.com", "nobody"); err == nil {
			t.Error("no error")
		}
	})
	t.Run("String", func(t *testing.T) {
		s, err := NewSMTP("smtp://user:"+secretPassword+"@mail.example.com", "noreply@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(s.String(), secretPassword) || !strings.Contains(s.String(), "user") {
			t.Errorf("String = %q", s.String())
		}
	})
}

// TestSMTPEndToEnd queues a mail in a transaction and has the worker send it
// to a real SMTP server, which requires AUTH PLAIN.
func TestSMTPEndToEnd(t *testing.T) {
	srv := startSMTP(t, "127.0.0.1:0", withAuth("mailer", secretPassword))
	sender, err := NewSMTP(fmt.Sprintf("smtp://mailer:%s@127.0.0.1:%d?tls=none", secretPassword, srv.Port), "bounces@lsc.example.com")
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	store := newStore(t, clk)
	w := newWorker(t, store, sender, WorkerOptions{})
	link := "https://lsc.example.com/verify?token=AbC123&lang=ja"
	commit(t, store, w, Message{To: "hanako@example.co.jp", Language: "ja", Template: TemplateVerifyEmail,
		Data: map[string]any{"Name": "山田 花子", "Link": link, "Expires": clk.Now().Add(24 * time.Hour)}})

	if got := processOnce(t, w); got != 1 {
		t.Fatalf("ProcessOnce sent %d, want 1", got)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the server received %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != "bounces@lsc.example.com" || len(got.To) != 1 || got.To[0] != "hanako@example.co.jp" {
		t.Errorf("envelope: from %q to %q", got.From, got.To)
	}
	p := parse(t, got.Data)
	if got, want := p.Header.Get("To"), "<hanako@example.co.jp>"; got != want {
		t.Errorf("To = %q, want %q", got, want)
	}
	if got, want := p.Header.Get("From"), `"OpenLSC" <noreply@lsc.example.com>`; got != want {
		t.Errorf("From = %q, want %q", got, want)
	}
	if got, want := p.Subject, "【OpenLSC】勤務先メール アドレスの確認のお願い"; got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
	row := outbox(t, store)[0]
	if got, want := p.Header.Get("Message-ID"), fmt.Sprintf("<openlsc-outbox-%d@lsc.example.com>", row.ID); got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	if got := p.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	if _, err := p.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	mustContain(t, p.Text, "山田 花子 様", link, "2026年3月15日 09:00 (UTC)")
	mustContain(t, p.HTML, `<html lang="ja">`, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`, "メール アドレスを確認する")

	if row.Status != statusSent || row.Attempts != 1 || row.SentAt == nil || row.LeaseUntil != nil || row.LastError != "" || row.Data != "{}" {
		t.Errorf("outbox row after sending = %+v", row)
	}
	if !row.SentAt.Equal(clk.Now().Truncate(time.Microsecond)) {
		t.Errorf("sent_at = %v, want the store clock %v", row.SentAt, clk.Now())
	}
	if got := processOnce(t, w); got != 0 {
		t.Errorf("the second ProcessOnce sent %d", got)
	}
	if got := len(srv.Messages()); got != 1 {
		t.Errorf("the server received %d messages, want 1", got)
	}
}

// TestSMTPTLS checks the default mode against a server that offers
// STARTTLS, and that a server without it is refused.
func TestSMTPTLS(t *testing.T) {
	serverTLS, roots := selfSignedTLS(t)
	clientTLS := func(s *SMTP) {
		s.opts = append(s.opts, gomail.WithTLSConfig(&tls.Config{ServerName: "127.0.0.1", RootCAs: roots, MinVersion: tls.VersionTLS12}))
	}
	m := Rendered{From: testFrom, To: "user@example.com", Subject: "Hello", Text: "text", HTML: "<p>html</p>", MessageID: "<x@lsc.example.com>"}

	t.Run("OK", func(t *testing.T) {
		srv := startSMTP(t, "127.0.0.1:0", withSTARTTLS(serverTLS), withAuth("mailer", secretPassword))
		s, err := NewSMTP(fmt.Sprintf("smtp://mailer:%s@127.0.0.1:%d", secretPassword, srv.Port), "noreply@lsc.example.com")
		if err != nil {
			t.Fatal(err)
		}
		clientTLS(s)
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		if got := len(srv.Messages()); got != 1 {
			t.Fatalf("received %d messages", got)
		}
		mustContain(t, parse(t, srv.Messages()[0].Data).HTML, "<p>html</p>")
	})
	t.Run("ImplicitTLS", func(t *testing.T) {
		srv := startSMTP(t, "127.0.0.1:0", withImplicitTLS(serverTLS), withAuth("mailer", secretPassword))
		s, err := NewSMTP(fmt.Sprintf("smtp://mailer:%s@127.0.0.1:%d?tls=tls", secretPassword, srv.Port), "noreply@lsc.example.com")
		if err != nil {
			t.Fatal(err)
		}
		clientTLS(s)
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		if got := len(srv.Messages()); got != 1 {
			t.Fatalf("received %d messages", got)
		}
	})
	t.Run("UntrustedCertificate", func(t *testing.T) {
		srv := startSMTP(t, "127.0.0.1:0", withSTARTTLS(serverTLS))
		s, err := NewSMTP(fmt.Sprintf("smtp://127.0.0.1:%d", srv.Port), "noreply@lsc.example.com")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(context.Background(), m); err == nil {
			t.Error("sent to a server with an untrusted certificate")
		}
	})
	t.Run("NoSTARTTLS", func(t *testing.T) {
		srv := startSMTP(t, "127.0.0.1:0", withAuth("mailer", secretPassword))
		s, err := NewSMTP(fmt.Sprintf("smtp://mailer:%s@127.0.0.1:%d", secretPassword, srv.Port), "noreply@lsc.example.com")
		if err != nil {
			t.Fatal(err)
		}
		clientTLS(s)
		err = s.Send(context.Background(), m)
		if err == nil {
			t.Fatal("sent without TLS although the URL requires STARTTLS")
		}
		if strings.Contains(err.Error(), secretPassword) {
			t.Errorf("the error shows the password: %v", err)
		}
		if got := len(srv.Messages()); got != 0 {
			t.Errorf("received %d messages", got)
		}
	})
}

func TestSMTPErrorsHideThePassword(t *testing.T) {
	m := Rendered{From: testFrom, To: "user@example.com", Subject: "Hello", Text: "text", MessageID: "<x@lsc.example.com>"}
	t.Run("WrongPassword", func(t *testing.T) {
		srv := startSMTP(t, "127.0.0.1:0", withAuth("mailer", "the-right-one"))
		s, err := NewSMTP(fmt.Sprintf("smtp://mailer:%s@127.0.0.1:%d?tls=none", secretPassword, srv.Port), "noreply@lsc.example.com")
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(context.Background(), m)
		if err == nil {
			t.Fatal("sent with the wrong password")
		}
		if strings.Contains(err.Error(), secretPassword) {
			t.Errorf("the error shows the password: %v", err)
		}
	})
	t.Run("ServerDown", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().(*net.TCPAddr)
		_ = ln.Close()
		s, err := NewSMTP(fmt.Sprintf("smtp://mailer:%s@127.0.0.1:%d?tls=none", secretPassword, addr.Port), "noreply@lsc.example.com")
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(context.Background(), m)
		if err == nil {
			t.Fatal("sent to a closed port")
		}
		if strings.Contains(err.Error(), secretPassword) {
			t.Errorf("the error shows the password: %v", err)
		}
	})
	t.Run("Scrubbed", func(t *testing.T) {
		s, err := NewSMTP("smtp://mailer:"+secretPassword+"@127.0.0.1:25?tls=none", "noreply@lsc.example.com")
		if err != nil {
			t.Fatal(err)
		}
		err = s.error(fmt.Errorf("535 bad credentials for mailer/%s", secretPassword))
		if strings.Contains(err.Error(), secretPassword) || !strings.Contains(err.Error(), "535") {
			t.Errorf("error = %v", err)
		}
	})
}
