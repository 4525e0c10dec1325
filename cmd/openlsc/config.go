package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/frontend"
	"github.com/openlsc/openlsc/models"
)

// config is the server's configuration, read from OPENLSC_* environment
// variables and command-line flags. The README's configuration table lists
// the same variables; keep them in step.
type config struct {
	Addr            string
	BaseURL         *url.URL
	DatabaseURL     string
	SecretKey       string // never logged
	Dev             bool
	TrustedProxies  []string
	LogLevel        slog.Level
	LogFormat       string // "text" or "json"
	StorageDir      string
	StorageURL      string // s3://…; when set, files come from object storage (never logged whole)
	PprofAddr       string // loopback address serving net/http/pprof; "" serves none
	ShutdownTimeout time.Duration

	Providers    []app.ProviderConfig // OpenID providers; the dev provider is added in dev mode
	SessionIdle  time.Duration
	SessionMax   time.Duration
	SMTPURL      string // never logged
	MailFrom     string
	DormantAfter time.Duration
	VerifyTTL    time.Duration
	RequestTTL   time.Duration // pending access requests expire after this long
	LeakWindow   time.Duration // a key seen from more than LeakNetworks networks within this is flagged
	LeakNetworks int
	Operators    []string // work emails that hold the operator role once verified

	Support []frontend.SupportContact // shown on the help page (OPENLSC_SUPPORT_CONTACTS)
}

// String describes the configuration for the start-up log, without secrets.
func (c config) LogValue() slog.Value {
	db := c.DatabaseURL
	if u, err := url.Parse(db); err == nil && u.Scheme != "" {
		db = u.Redacted()
	}
	providers := make([]string, len(c.Providers))
	for i, p := range c.Providers {
		providers[i] = p.Name + "=" + p.Issuer
	}
	return slog.GroupValue(
		slog.Any("oidc_providers", providers),
		slog.Bool("smtp", c.SMTPURL != ""),
		slog.String("addr", c.Addr),
		slog.String("base_url", c.BaseURL.String()),
		slog.String("database", db),
		slog.Bool("dev", c.Dev),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.String("storage_dir", c.StorageDir),
		slog.String("storage_url", storageURLForLog(c.StorageURL)),
	)
}

// configError lists every problem with the configuration at once, each
// naming its variable and how to fix it.
type configError []string

func (e configError) Error() string {
	return "configuration is not usable:\n  - " + strings.Join(e, "\n  - ")
}

// loadConfig reads the configuration from getenv; dev is true when --dev was
// given on the command line (OPENLSC_DEV=true does the same).
func loadConfig(getenv func(string) string, dev bool) (config, error) {
	var problems configError
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := config{
		Addr:            get("OPENLSC_ADDR", "127.0.0.1:8080"),
		DatabaseURL:     get("OPENLSC_DATABASE_URL", "./data/openlsc.db"),
		SecretKey:       getenv("OPENLSC_SECRET_KEY"),
		LogFormat:       get("OPENLSC_LOG_FORMAT", "text"),
		StorageDir:      get("OPENLSC_STORAGE_DIR", "./data/files"),
		StorageURL:      get("OPENLSC_STORAGE_URL", ""),
		PprofAddr:       get("OPENLSC_PPROF_ADDR", ""),
		ShutdownTimeout: 20 * time.Second,
	}

	switch v := strings.ToLower(get("OPENLSC_DEV", "false")); v {
	case "true", "1", "yes":
		c.Dev = true
	case "false", "0", "no":
		c.Dev = dev
	default:
		problems = append(problems, fmt.Sprintf("OPENLSC_DEV=%q: use true or false", v))
	}

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		problems = append(problems, fmt.Sprintf("OPENLSC_ADDR=%q is not host:port: use e.g. 127.0.0.1:8080 or :8080", c.Addr))
	}

	raw := get("OPENLSC_BASE_URL", "http://localhost:8080")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		problems = append(problems, fmt.Sprintf("OPENLSC_BASE_URL=%q: give the public http(s) URL of the service with no path, e.g. https://licensing.example.com", raw))
		u, _ = url.Parse("http://localhost:8080")
	}
	u.Path = ""
	c.BaseURL = u

	if _, _, err := models.ParseDatabaseURL(c.DatabaseURL); err != nil {
		problems = append(problems, fmt.Sprintf("OPENLSC_DATABASE_URL: %v", err))
	}

	switch {
	case c.SecretKey == "" && c.Dev:
		// filled in by devSecret once the database location is known
	case c.SecretKey == "":
		problems = append(problems, "OPENLSC_SECRET_KEY is not set: set it to a random string of at least 32 characters (e.g. `openssl rand -base64 48`) and keep it; or run `openlsc serve --dev` for a demo")
	case len(c.SecretKey) < models.MinSecretLength:
		problems = append(problems, fmt.Sprintf("OPENLSC_SECRET_KEY has %d characters: it needs at least %d (e.g. `openssl rand -base64 48`)", len(c.SecretKey), models.MinSecretLength))
	}

	if c.StorageURL != "" {
		if _, err := app.ParseS3URL(c.StorageURL); err != nil {
			problems = append(problems, fmt.Sprintf("OPENLSC_STORAGE_URL: %v (e.g. s3://bucket/prefix?endpoint=http://minio:9000&region=us-east-1)", err))
		}
	}
	if c.PprofAddr != "" {
		if err := checkPprofAddr(c.PprofAddr); err != nil {
			problems = append(problems, err.Error())
		}
	}
	problems = append(problems, c.loadOperations(getenv, get)...)
	problems = append(problems, c.loadSignIn(getenv, get)...)
	problems = append(problems, c.loadLeakDetection(get)...)
	if c.Support, err = supportContacts(getenv, c.Dev); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return c, problems
	}
	return c, nil
}

// loadOperations reads the trusted proxies, logging and shutdown settings.
func (c *config) loadOperations(getenv func(string) string, get func(name, def string) string) configError {
	var problems configError
	if v := get("OPENLSC_TRUSTED_PROXIES", ""); v != "" {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if net.ParseIP(p) == nil {
				if _, _, err := net.ParseCIDR(p); err != nil {
					problems = append(problems, fmt.Sprintf("OPENLSC_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR range (e.g. 10.0.0.0/8)", p))
					continue
				}
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}

	if err := c.LogLevel.UnmarshalText([]byte(get("OPENLSC_LOG_LEVEL", "info"))); err != nil {
		problems = append(problems, fmt.Sprintf("OPENLSC_LOG_LEVEL=%q: use debug, info, warn or error", getenv("OPENLSC_LOG_LEVEL")))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		problems = append(problems, fmt.Sprintf("OPENLSC_LOG_FORMAT=%q: use text or json", c.LogFormat))
	}
	if v := getenv("OPENLSC_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Sprintf("OPENLSC_SHUTDOWN_TIMEOUT=%q: give a duration such as 20s", v))
		} else {
			c.ShutdownTimeout = d
		}
	}
	return problems
}

// loadSignIn reads the OpenID provider, session, mail and dormancy settings.
func (c *config) loadSignIn(getenv func(string) string, get func(name, def string) string) configError {
	var problems configError
	duration := func(name string, def time.Duration) time.Duration {
		v := get(name, "")
		if v == "" {
			return def
		}
		d, err := parseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Sprintf("%s=%q: give a duration such as 30m, 12h or 365d", name, v))
			return def
		}
		return d
	}
	c.SessionIdle = duration("OPENLSC_SESSION_IDLE", 30*time.Minute)
	c.SessionMax = duration("OPENLSC_SESSION_MAX", 12*time.Hour)
	c.DormantAfter = duration("OPENLSC_DORMANT_AFTER", 365*24*time.Hour)
	c.VerifyTTL = duration("OPENLSC_VERIFY_TTL", 48*time.Hour)
	c.RequestTTL = duration("OPENLSC_REQUEST_TTL", 30*24*time.Hour)
	if c.SessionIdle > c.SessionMax {
		problems = append(problems, "OPENLSC_SESSION_IDLE is longer than OPENLSC_SESSION_MAX: make the idle timeout the shorter one")
	}

	problems = append(problems, c.loadProviders(getenv, get)...)
	for _, e := range strings.Split(get("OPENLSC_OPERATORS", ""), ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		if _, err := app.ValidateEmail(e); err != nil {
			problems = append(problems, fmt.Sprintf("OPENLSC_OPERATORS: %q is not an email address; list operators' work emails separated by commas", e))
			continue
		}
		c.Operators = append(c.Operators, e)
	}
	c.SMTPURL = getenv("OPENLSC_SMTP_URL")
	c.MailFrom = get("OPENLSC_MAIL_FROM", "")
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
			problems = append(problems, "OPENLSC_SMTP_URL: write it as smtp://user:password@host:port?tls=none|starttls|tls")
		}
	}
	if c.MailFrom == "" && (c.Dev || c.SMTPURL == "") {
		c.MailFrom = "OpenLSC <no-reply@" + c.BaseURL.Hostname() + ">"
	}
	return problems
}

// loadProviders reads the OpenID providers users sign in with.
func (c *config) loadProviders(getenv func(string) string, get func(name, def string) string) configError {
	var problems configError
	if issuer := get("OPENLSC_OIDC_ISSUER", ""); issuer != "" {
		c.Providers = append(c.Providers, app.ProviderConfig{
			Name: get("OPENLSC_OIDC_NAME", "sso"), Label: get("OPENLSC_OIDC_LABEL", "Single sign-on"),
			Issuer: issuer, ClientID: get("OPENLSC_OIDC_CLIENT_ID", ""), ClientSecret: getenv("OPENLSC_OIDC_CLIENT_SECRET"),
			Scopes: strings.FieldsFunc(get("OPENLSC_OIDC_SCOPES", ""), func(r rune) bool { return r == ',' || r == ' ' }),
		})
	} else if get("OPENLSC_OIDC_CLIENT_ID", "") != "" {
		problems = append(problems, "OPENLSC_OIDC_CLIENT_ID is set but OPENLSC_OIDC_ISSUER is not: set the provider's issuer URL too")
	}
	if v := get("OPENLSC_OIDC_PROVIDERS", ""); v != "" {
		var list []app.ProviderConfig
		if err := json.Unmarshal([]byte(v), &list); err != nil {
			problems = append(problems, fmt.Sprintf(`OPENLSC_OIDC_PROVIDERS is not a JSON list such as [{"name":"contoso","label":"Contoso","issuer":"https://…","client_id":"…","client_secret":"…"}]: %v`, err))
		}
		c.Providers = append(c.Providers, list...)
	}
	names := map[string]bool{"dev": c.Dev}
	for i, p := range c.Providers {
		where := fmt.Sprintf("OpenID provider %d (%q)", i+1, p.Name)
		u, err := url.Parse(p.Issuer)
		switch {
		case p.Name == "" || strings.ContainsAny(p.Name, " /?&#"):
			problems = append(problems, where+": give it a short name without spaces (OPENLSC_OIDC_NAME or \"name\")")
		case names[p.Name]:
			problems = append(problems, where+": the name is used twice; give each provider its own")
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			problems = append(problems, where+": the issuer must be the provider's http(s) URL, exactly as its discovery document states it")
		case p.ClientID == "":
			problems = append(problems, where+": set its client id (OPENLSC_OIDC_CLIENT_ID or \"client_id\")")
		}
		names[p.Name] = true
		if p.Label == "" {
			c.Providers[i].Label = p.Name
		}
	}
	return problems
}

// checkServe reports what the server needs beyond what every command
// needs: a way to sign in and a way to send mail.
func (c config) checkServe() error {
	var problems configError
	if len(c.Providers) == 0 && !c.Dev {
		problems = append(problems, "no OpenID provider is configured: set OPENLSC_OIDC_ISSUER, OPENLSC_OIDC_CLIENT_ID and OPENLSC_OIDC_CLIENT_SECRET (or OPENLSC_OIDC_PROVIDERS for several); or run `openlsc serve --dev`")
	}
	if c.SMTPURL == "" && !c.Dev {
		problems = append(problems, "OPENLSC_SMTP_URL is not set: give the mail server as smtp://user:password@host:587?tls=starttls (tls=none|starttls|tls); or run `openlsc serve --dev`, which keeps mail in a development mailbox")
	}
	if c.MailFrom == "" {
		problems = append(problems, "OPENLSC_MAIL_FROM is not set: give the sender address, e.g. OpenLSC <licensing@example.com>")
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// loadLeakDetection reads the thresholds of activation leak detection.
func (c *config) loadLeakDetection(get func(name, def string) string) configError {
	var problems configError
	window := get("OPENLSC_LEAK_WINDOW", "30d")
	if d, err := parseDuration(window); err != nil || d <= 0 {
		problems = append(problems, fmt.Sprintf("OPENLSC_LEAK_WINDOW=%q: give a duration such as 30d or 72h", window))
	} else {
		c.LeakWindow = d
	}
	networks := get("OPENLSC_LEAK_NETWORKS", "25")
	if n, err := strconv.Atoi(networks); err != nil || n < 1 {
		problems = append(problems, fmt.Sprintf("OPENLSC_LEAK_NETWORKS=%q: give a whole number of networks, 1 or more, such as 25", networks))
	} else {
		c.LeakNetworks = n
	}
	return problems
}

// parseDuration is time.ParseDuration that also takes whole days ("365d").
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// devSecret returns the secret key for development mode when none is set:
// a random key kept in a file beside the SQLite database, so that sealed
// data stays readable across restarts.
func devSecret(c config) (string, error) {
	dialect, path, err := models.ParseDatabaseURL(c.DatabaseURL)
	if err != nil {
		return "", err
	}
	if dialect != models.DialectSQLite {
		return "", configError{"OPENLSC_SECRET_KEY is not set: development mode makes one up only for a SQLite database; set it to a random string of at least 32 characters"}
	}
	file := filepath.Join(filepath.Dir(path), "dev-secret.key")
	if b, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(b))) >= models.MinSecretLength {
		return strings.TrimSpace(string(b)), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	buf := make([]byte, 36)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(buf)
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return "", err
	}
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", file, err)
	}
	return secret, nil
}

// storageURLForLog is the storage URL without its query (which may name
// hosts only, but is kept out of logs like the database URL's secrets).
func storageURLForLog(raw string) string {
	if raw == "" {
		return ""
	}
	if u, err := url.Parse(raw); err == nil {
		return u.Scheme + "://" + u.Host + u.Path
	}
	return "(unparsable)"
}
