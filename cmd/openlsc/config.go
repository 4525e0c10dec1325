package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	ShutdownTimeout time.Duration
}

// String describes the configuration for the start-up log, without secrets.
func (c config) LogValue() slog.Value {
	db := c.DatabaseURL
	if u, err := url.Parse(db); err == nil && u.Scheme != "" {
		db = u.Redacted()
	}
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("base_url", c.BaseURL.String()),
		slog.String("database", db),
		slog.Bool("dev", c.Dev),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.String("storage_dir", c.StorageDir),
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
	if len(problems) > 0 {
		return c, problems
	}
	return c, nil
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
