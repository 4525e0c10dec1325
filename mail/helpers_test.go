package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// testFrom is the From of the test workers.
const testFrom = "OpenLSC <noreply@lsc.example.com>"

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 14, 9, 0, 0, 123456789, time.UTC)}
}

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newStore returns a migrated store on a new database whose clock is clk.
func newStore(t testing.TB, clk *fakeClock) *models.Store {
	t.Helper()
	return modelstest.Open(t, modelstest.URL(t), models.Options{Keyring: modelstest.Keyring(t), Now: clk.Now})
}

// testLogger returns a logger that writes to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newWorker returns a worker with test defaults for the options left zero.
func newWorker(t testing.TB, store *models.Store, sender Sender, opts WorkerOptions) *Worker {
	t.Helper()
	if opts.From == "" {
		opts.From = testFrom
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	if opts.Backoff == nil {
		opts.Backoff = func(int) time.Duration { return time.Minute }
	}
	w, err := NewWorker(store, sender, opts)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// expiredMessage returns a valid access_request_expired message to to.
func expiredMessage(to, licence string) Message {
	return Message{To: to, Language: "en", Template: TemplateAccessRequestExpired, Data: map[string]any{"Licence": licence}}
}

// commit enqueues msgs through w in one transaction.
func commit(t testing.TB, store *models.Store, w *Worker, msgs ...Message) {
	t.Helper()
	err := store.InTx(context.Background(), func(tx *models.Tx) error {
		for _, m := range msgs {
			if err := w.Enqueue(tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// outbox returns every outbox row in ID order.
func outbox(t testing.TB, store *models.Store) []models.OutboxMail {
	t.Helper()
	rows, err := store.OutboxMails(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// processOnce runs one pass and fails the test on a database error.
func processOnce(t testing.TB, w *Worker) int {
	t.Helper()
	n, err := w.ProcessOnce(context.Background())
	if err != nil {
		t.Fatalf("ProcessOnce: %v", err)
	}
	return n
}

// smtpServer is a real SMTP server (emersion/go-smtp) on the loopback
// interface that keeps what it receives.
type smtpServer struct {
	Addr string
	Port int

	user, pass string      // when set, AUTH PLAIN is offered and required
	tlsConfig  *tls.Config // when set, STARTTLS is offered
	implicit   *tls.Config // when set, connections start with TLS

	srv *smtp.Server

	mu   sync.Mutex
	msgs []received
}

// received is one message as the server got it.
type received struct {
	From string
	To   []string
	Data []byte
}

// smtpOption configures a test SMTP server.
type smtpOption func(*smtpServer)

// withAuth makes the server require AUTH PLAIN with user and pass.
func withAuth(user, pass string) smtpOption {
	return func(s *smtpServer) { s.user, s.pass = user, pass }
}

// withSTARTTLS makes the server offer STARTTLS with cfg.
func withSTARTTLS(cfg *tls.Config) smtpOption {
	return func(s *smtpServer) { s.tlsConfig = cfg }
}

// withImplicitTLS makes the server speak TLS from the start (port 465 style).
func withImplicitTLS(cfg *tls.Config) smtpOption {
	return func(s *smtpServer) { s.implicit = cfg }
}

// startSMTP starts a server on addr ("127.0.0.1:0" for any port); it is
// stopped when the test ends.
func startSMTP(t testing.TB, addr string, opts ...smtpOption) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	s.Port = ln.Addr().(*net.TCPAddr).Port
	if s.implicit != nil {
		ln = tls.NewListener(ln, s.implicit)
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{server: s}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.TLSConfig = s.tlsConfig
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *smtpServer) Close() { _ = s.srv.Close() }

// Messages returns what the server received, oldest first.
func (s *smtpServer) Messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// smtpSession is one SMTP connection of the test server.
type smtpSession struct {
	server *smtpServer
	authed bool
	from   string
	to     []string
}

func (s *smtpSession) AuthMechanisms() []string {
	if s.server.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.server.user || pass != s.server.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.server.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	buf, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.server.mu.Lock()
	defer s.server.mu.Unlock()
	s.server.msgs = append(s.server.msgs, received{From: s.from, To: s.to, Data: buf})
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

// parsed is a received message taken apart.
type parsed struct {
	Header  netmail.Header
	Subject string // decoded
	Text    string // the decoded text/plain part
	HTML    string // the decoded text/html part
}

// parse decodes a multipart/alternative message with quoted-printable
// parts, as go-mail writes it.
func parse(t testing.TB, data []byte) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var p parsed
	p.Header = msg.Header
	dec := new(mime.WordDecoder)
	if p.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %s, want multipart/alternative", mediaType)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = part
		switch enc := strings.ToLower(part.Header.Get("Content-Transfer-Encoding")); enc {
		case "quoted-printable":
			body = quotedprintable.NewReader(part)
		case "", "7bit", "8bit":
		default:
			t.Fatalf("unexpected Content-Transfer-Encoding %q", enc)
		}
		buf, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		ct, ctParams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		if cs := strings.ToLower(ctParams["charset"]); cs != "utf-8" {
			t.Errorf("%s part has charset %q", ct, cs)
		}
		switch ct {
		case "text/plain":
			p.Text = string(buf)
		case "text/html":
			p.HTML = string(buf)
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	return p
}

// selfSignedTLS returns a server configuration with a certificate for
// 127.0.0.1 and a pool that trusts it.
func selfSignedTLS(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "openlsc test SMTP"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}
