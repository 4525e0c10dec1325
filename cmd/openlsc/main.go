// Command openlsc runs the OpenLSC licensing service center: the web server
// (serve), schema migrations (migrate) and bulk data import (import).
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/openlsc/openlsc/api/devoidc"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/demo"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `OpenLSC, an open-source licensing service center.

Usage:
  openlsc serve [--dev] [--addr HOST:PORT]   run the web server (migrates first)
  openlsc migrate [--dev]                    apply database migrations and exit
  openlsc import [--dev] [--dry-run] FILE    load agreement data from a JSON file ("-" reads stdin)
  openlsc version                            print the version

Configuration comes from OPENLSC_* environment variables; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, runEnv{
		args:   os.Args[1:],
		getenv: os.Getenv,
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "openlsc:", err)
		os.Exit(1)
	}
}

// runEnv is everything run takes from the process, so tests can supply it.
type runEnv struct {
	args           []string
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
	// listening, when set, is told the server's address once it accepts
	// connections.
	listening func(addr net.Addr)
}

// run carries out one command line.
func run(ctx context.Context, env runEnv) error {
	if len(env.args) == 0 {
		fmt.Fprint(env.stderr, usage)
		return errors.New("no command given")
	}
	cmd, args := env.args[0], env.args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, env, args)
	case "migrate":
		return migrate(ctx, env, args)
	case "import":
		return importFile(ctx, env, args)
	case "version", "--version":
		fmt.Fprintln(env.stdout, "openlsc", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(env.stdout, usage)
		return nil
	}
	fmt.Fprint(env.stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func newFlagSet(name string, env runEnv) *flag.FlagSet {
	fs := flag.NewFlagSet("openlsc "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	return fs
}

// cliWriteWait is how long a command (import, migrate) waits for the
// database's write lock: a running server's writes are short, but there may
// be many of them, and a command has nobody waiting on it to be told to retry.
const cliWriteWait = 5 * time.Minute

// setup loads the configuration and opens and migrates the database, whose
// writes wait for the write lock up to writeWait (0: the default).
func setup(ctx context.Context, env runEnv, dev bool, writeWait time.Duration) (config, *slog.Logger, *models.Store, error) {
	cfg, err := loadConfig(env.getenv, dev)
	if err != nil {
		return cfg, nil, nil, err
	}
	logger := newLogger(cfg, env.stderr)
	store, err := openDatabase(ctx, &cfg, logger, writeWait)
	return cfg, logger, store, err
}

// openDatabase opens and migrates the database of cfg, making up the
// development secret key when cfg has none and may. Writes wait for the
// write lock up to writeWait (0: models.DefaultWriteWait).
func openDatabase(ctx context.Context, cfg *config, logger *slog.Logger, writeWait time.Duration) (*models.Store, error) {
	var err error
	if cfg.SecretKey == "" {
		if cfg.SecretKey, err = devSecret(*cfg); err != nil {
			return nil, err
		}
	}
	keys, err := models.NewKeyring(cfg.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("OPENLSC_SECRET_KEY: %w", err)
	}
	store, err := models.Open(ctx, cfg.DatabaseURL, models.Options{Keyring: keys, WriteWait: writeWait})
	if err != nil {
		return nil, fmt.Errorf("OPENLSC_DATABASE_URL: %w", err)
	}
	v, err := store.Migrate(ctx)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	logger.Debug("database ready", slog.String("dialect", store.Dialect()), slog.Int64("schema_version", v))
	return store, nil
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// mailWorker chooses the mail sender (SMTP, or in development mode without
// SMTP the development mailbox, which it also returns) and its worker.
func mailWorker(cfg config, store *models.Store, logger *slog.Logger) (*mail.Worker, *mail.Mailbox, error) {
	var (
		sender mail.Sender
		box    *mail.Mailbox
	)
	if cfg.SMTPURL != "" {
		smtp, err := mail.NewSMTP(cfg.SMTPURL, cfg.MailFrom)
		if err != nil {
			return nil, nil, fmt.Errorf("OPENLSC_SMTP_URL: %w", err)
		}
		sender = smtp
	} else {
		box = mail.NewMailbox(store)
		sender = box
		logger.Info("mail goes to the development mailbox at /dev/mail")
	}
	w, err := mail.NewWorker(store, sender, mail.WorkerOptions{From: cfg.MailFrom, Logger: logger})
	return w, box, err
}

// housekeeping deletes expired sessions and expires old access requests
// every hour until ctx ends.
func housekeeping(ctx context.Context, sessions *app.Sessions, requests *app.Requests, logger *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := sessions.Sweep(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("deleting expired sessions", slog.Any("error", err))
		} else if n > 0 {
			logger.Debug("expired sessions deleted", slog.Int64("count", n))
		}
		if n, err := requests.ExpirePending(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("expiring access requests", slog.Any("error", err))
		} else if n > 0 {
			logger.Info("access requests expired", slog.Int("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// devOIDCPath is where development mode serves its OpenID provider.
const devOIDCPath = "/dev/oidc"

// devProvider builds the development OpenID provider, offering the demo
// personas, and the client configuration that signs in with it.
func devProvider(cfg config, logger *slog.Logger) (app.ProviderConfig, http.Handler, error) {
	personas := make([]devoidc.Persona, len(demo.Personas))
	for i, p := range demo.Personas {
		personas[i] = devoidc.Persona{Subject: p.Subject, Email: p.Email, Name: p.Name, Description: p.Description}
	}
	pc := app.ProviderConfig{
		Name: "dev", Label: "Development sign-in (demo personas)",
		Issuer: cfg.BaseURL.String() + devOIDCPath, ClientID: "openlsc-dev", ClientSecret: randomSecret(),
	}
	h, err := devoidc.New(devoidc.Options{
		Issuer: pc.Issuer, ClientID: pc.ClientID, ClientSecret: pc.ClientSecret,
		RedirectURIs:           []string{cfg.BaseURL.String() + "/auth/callback"},
		PostLogoutRedirectURIs: []string{cfg.BaseURL.String() + "/"},
		Personas:               personas, Logger: logger,
	})
	return pc, h, err
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func migrate(ctx context.Context, env runEnv, args []string) error {
	fs := newFlagSet("migrate", env)
	dev := fs.Bool("dev", false, "development mode (a SQLite database needs no secret key)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, _, store, err := setup(ctx, env, *dev, cliWriteWait)
	if err != nil {
		return err
	}
	defer store.Close()
	cur, _, err := store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s database at schema version %d\n", store.Dialect(), cur)
	return nil
}

func importFile(ctx context.Context, env runEnv, args []string) error {
	fs := newFlagSet("import", env)
	dev := fs.Bool("dev", false, "development mode (a SQLite database needs no secret key)")
	dryRun := fs.Bool("dry-run", false, "validate and report what would change, change nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("import takes one FILE (or - for standard input)")
	}
	name := fs.Arg(0)
	var in io.Reader = env.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	_, _, store, err := setup(ctx, env, *dev, cliWriteWait)
	if err != nil {
		return err
	}
	defer store.Close()
	// Verified users named as contacts get (or lose) access in the same
	// transaction as the import. Grant and Revoke decide on the database,
	// under the authorization lock, so this short-lived Authorizer need not
	// follow other processes' changes.
	az, err := authz.New(ctx, store, authz.Options{PollInterval: -1})
	if err != nil {
		return err
	}
	accounts := app.NewAccounts(store, az, app.WorkEmailOptions{})
	start := time.Now()
	progress := startProgress(env.stderr)
	// Decoded as it is read, inside the import's transaction: a large
	// document is never held whole.
	res, err := store.ImportJSON(ctx, in, models.ImportOptions{
		Actor: models.Actor{Label: "cli"}, DryRun: *dryRun, Progress: progress.update,
		AfterApply: func(tx *models.Tx, res *models.ImportResult) error {
			return accounts.ApplyContactChanges(tx, res.ContactChanges)
		},
	})
	progress.finish()
	if err != nil {
		return err
	}
	// Running servers on PostgreSQL pick up new and moved agreements at once.
	if err := authz.AnnounceAgreements(ctx, store, res.ChangedAgreements); err != nil {
		return fmt.Errorf("imported, but announcing the change to running servers failed (restart them): %w", err)
	}
	printImportResult(env.stdout, res, time.Since(start))
	return nil
}

func printImportResult(w io.Writer, res *models.ImportResult, took time.Duration) {
	verb := "Imported"
	if res.DryRun {
		verb = "Dry run, nothing changed; would import"
	}
	fmt.Fprintf(w, "%s in %s:\n", verb, took.Round(time.Millisecond))
	fmt.Fprintf(w, "  %-14s %8s %8s %10s %8s\n", "", "created", "updated", "unchanged", "removed")
	for _, row := range []struct {
		name string
		c    models.ImportCounts
	}{
		{"organizations", res.Organizations}, {"agreements", res.Agreements}, {"contacts", res.Contacts},
		{"products", res.Products}, {"versions", res.Versions}, {"files", res.Files},
		{"entitlements", res.Entitlements}, {"keys", res.Keys},
	} {
		fmt.Fprintf(w, "  %-14s %8d %8d %10d %8d\n", row.name, row.c.Created, row.c.Updated, row.c.Unchanged, row.c.Removed)
	}
}
