package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPTimeout bounds connecting to the SMTP server and each command.
const SMTPTimeout = 30 * time.Second

// SMTP is a Sender that delivers through an SMTP server. It is safe for
// concurrent use; every Send opens its own connection.
type SMTP struct {
	host     string
	port     int
	from     string   // envelope sender
	secrets  []string // the password, decoded and as written, to keep out of errors
	redacted string   // the URL without the password, for errors and logs
	opts     []gomail.Option
}

// NewSMTP configures delivery through the server named by rawURL:
//
//	smtp://[user[:password]@]host[:port][?tls=starttls|tls|none][&auth=plain|login|cram-md5|scram-sha-256|auto]
//
// tls is starttls by default (STARTTLS required, port 587); tls means
// implicit TLS (port 465); none means no encryption (port 25). With a user
// name, the client authenticates (PLAIN unless auth says otherwise); a
// password is never sent unencrypted except to a server on the loopback
// address. from is the envelope sender (MAIL FROM), and the From of
// messages that have none. Errors never contain the password.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	if _, err := netmail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("mail: the sender address %q is not valid: %w", from, err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the URL, password included: keep only the cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("mail: the SMTP URL is not valid: %s", scrub(err.Error(), rawURL, passwordIn(rawURL)))
	}
	s := &SMTP{from: from, redacted: u.Redacted(), secrets: []string{passwordIn(rawURL)}}
	password, _ := u.User.Password()
	s.secrets = append(s.secrets, password)
	fail := func(format string, args ...any) (*SMTP, error) {
		msg := fmt.Sprintf(format, args...)
		return nil, fmt.Errorf("mail: the SMTP URL %s is not valid: %s", s.redacted, scrub(msg, s.secrets...))
	}
	if u.Scheme != "smtp" {
		return fail("the scheme must be smtp://")
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return fail("give only smtp://user:password@host:port?tls=…")
	}
	s.host = u.Hostname()
	if s.host == "" {
		return fail("no host")
	}
	q := u.Query()
	for key := range q {
		if key != "tls" && key != "auth" {
			return fail("unknown parameter %q (known: tls, auth)", key)
		}
	}
	opts := []gomail.Option{
		gomail.WithTimeout(SMTPTimeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}),
	}
	switch mode := q.Get("tls"); mode {
	case "", "starttls":
		s.port = gomail.DefaultPortTLS
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "tls":
		s.port = gomail.DefaultPortSSL
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "none":
		s.port = gomail.DefaultPort
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return fail("tls=%q: use starttls, tls or none", mode)
	}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return fail("the port %q is not a number from 1 to 65535", p)
		}
		s.port = port
	}
	opts = append(opts, gomail.WithPort(s.port))
	if user := u.User.Username(); user != "" {
		auth := gomail.SMTPAuthPlain
		if a := q.Get("auth"); a != "" {
			if err := auth.UnmarshalString(a); err != nil || auth == gomail.SMTPAuthCustom ||
				auth == gomail.SMTPAuthNoAuth || strings.HasSuffix(string(auth), "-NOENC") {
				return fail("auth=%q is not supported", a)
			}
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(user), gomail.WithPassword(password))
	} else if q.Has("auth") {
		return fail("auth needs a user name in the URL")
	}
	s.opts = opts
	// Check the options once, so that a bad one fails start-up.
	if _, err := gomail.NewClient(s.host, s.opts...); err != nil {
		return fail("%v", err)
	}
	return s, nil
}

// String returns the server's URL without the password.
func (s *SMTP) String() string { return s.redacted }

// Addr returns the server's host:port.
func (s *SMTP) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Send delivers m as a multipart/alternative message with a plain-text and
// an HTML part.
func (s *SMTP) Send(ctx context.Context, m Rendered) error {
	msg := gomail.NewMsg()
	from := m.From
	if from == "" {
		from = s.from
	}
	if err := msg.From(from); err != nil {
		return fmt.Errorf("mail: From %q: %w", from, err)
	}
	if err := msg.EnvelopeFrom(s.from); err != nil {
		return fmt.Errorf("mail: envelope sender %q: %w", s.from, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail: To %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	if id := strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">"); id != "" {
		msg.SetMessageIDWithValue(id)
	} else {
		msg.SetMessageID()
	}
	// RFC 3834: automatic mail; auto-responders should stay quiet.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetUserAgent("OpenLSC")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	client, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return s.error(err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return s.error(err)
	}
	return nil
}

// error wraps a delivery error, naming the server and never the password.
func (s *SMTP) error(err error) error {
	text := err.Error()
	if scrubbed := scrub(text, s.secrets...); scrubbed != text {
		return fmt.Errorf("mail: send through %s: %s", s.Addr(), scrubbed)
	}
	return fmt.Errorf("mail: send through %s: %w", s.Addr(), err)
}

// passwordIn returns the password of a URL, as written, even when the URL
// does not parse.
func passwordIn(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	i := strings.LastIndexByte(rest, '@')
	if i < 0 {
		return ""
	}
	_, pass, _ := strings.Cut(rest[:i], ":")
	return pass
}

// scrub replaces every occurrence of the secrets in text.
func scrub(text string, secrets ...string) string {
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "xxxxx")
		}
	}
	return text
}
