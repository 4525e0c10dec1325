package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/api/limits"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/frontend"
	"github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/demo"
)

// inheritancePage is the page asking MBSA administrators about inheritance.
const inheritancePage = "/inheritance"

// serve runs `openlsc serve` until ctx ends.
func serve(ctx context.Context, env runEnv, args []string) error {
	cfg, err := serveConfig(env, args)
	if err != nil {
		return err
	}
	m, err := Open(ctx, cfg, env.stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	if env.listening != nil {
		env.listening(m.Addr())
	}
	return m.Run(ctx)
}

// serveConfig reads the flags and the configuration of serve, and checks
// everything the server needs before the database is touched.
func serveConfig(env runEnv, args []string) (config, error) {
	fs := newFlagSet("serve", env)
	dev := fs.Bool("dev", false, "development mode: demo data, built-in OpenID provider and mailbox")
	addr := fs.String("addr", "", "listen address (overrides OPENLSC_ADDR)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	cfg, err := loadConfig(env.getenv, *dev)
	if err == nil {
		err = cfg.checkServe()
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	return cfg, err
}

// Main is one OpenLSC server, wired from its configuration: `openlsc
// serve` runs one, and the end-to-end tests start the same.
type Main struct {
	Config config
	Logger *slog.Logger
	Store  *models.Store
	Authz  *authz.Authorizer
	// Mailbox is the development mailbox, when mail goes there.
	Mailbox *mail.Mailbox

	worker   *mail.Worker
	uc       useCases
	handler  http.Handler
	ln       net.Listener
	closers  []func() error
	inflight atomic.Int64 // requests being served
}

// useCases are the application's use cases, which the API and the pages
// share.
type useCases struct {
	sessions  *app.Sessions
	signIn    *app.SignIn
	accounts  *app.Accounts
	requests  *app.Requests
	tokens    *app.Tokens
	admin     *app.Admin
	operators *app.Operators
	audit     *app.Audit
	keys      *app.Keys
	downloads *app.Downloads
	summary   *app.Summary
	// activations serves the vendor's software (online activation).
	activations *app.Activations
	// mounts are other handlers served under a path prefix (the
	// development OpenID provider).
	mounts map[string]http.Handler
}

// Open opens the database (migrating it), loads the demo data in
// development mode, the authorization policy, the mailer and the use
// cases, builds the HTTP handler and listens on the configured address.
// On error, what was opened is closed again.
func Open(ctx context.Context, cfg config, logs io.Writer) (*Main, error) {
	m := &Main{Config: cfg, Logger: newLogger(cfg, logs)}
	m.Logger.Info("starting OpenLSC", slog.String("version", version), slog.Any("config", cfg))
	steps := []func(context.Context) error{
		m.openDatabase, m.loadDemo, m.loadPolicy, m.openMail, m.newUseCases, m.newHandler, m.listen,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, errors.Join(err, m.Close())
		}
	}
	return m, nil
}

// Addr is the address the server listens on.
func (m *Main) Addr() net.Addr { return m.ln.Addr() }

// Close releases everything Open opened, newest first.
func (m *Main) Close() error {
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		errs = append(errs, m.closers[i]())
	}
	m.closers = nil
	return errors.Join(errs...)
}

func (m *Main) onClose(f func() error) { m.closers = append(m.closers, f) }

func (m *Main) openDatabase(ctx context.Context) error {
	store, err := openDatabase(ctx, &m.Config, m.Logger, 0)
	if err != nil {
		return err
	}
	m.Store = store
	m.onClose(store.Close)
	return nil
}

func (m *Main) loadDemo(ctx context.Context) error {
	if !m.Config.Dev {
		return nil
	}
	m.Logger.Warn("development mode is on: demo data and development sign-in are enabled; never use it in production")
	imported, err := demo.Load(ctx, m.Store, m.Config.StorageDir)
	if err != nil {
		return fmt.Errorf("load the demo data: %w", err)
	}
	if imported {
		m.Logger.Info("demo data loaded")
	}
	return nil
}

func (m *Main) loadPolicy(ctx context.Context) error {
	listen := ""
	if m.Store.Dialect() == models.DialectPostgres {
		listen = m.Config.DatabaseURL // other instances' policy changes arrive by NOTIFY
	}
	start := time.Now()
	az, err := authz.New(ctx, m.Store, authz.Options{Logger: m.Logger, ListenURL: listen})
	if err != nil {
		return err
	}
	m.Authz = az
	m.onClose(az.Close)
	m.Logger.Info("authorization policy loaded", slog.Duration("took", time.Since(start)))
	return nil
}

func (m *Main) openMail(context.Context) error {
	w, box, err := mailWorker(m.Config, m.Store, m.Logger)
	m.worker, m.Mailbox = w, box
	return err
}

func (m *Main) newUseCases(context.Context) error {
	cfg, store, az := m.Config, m.Store, m.Authz
	base := cfg.BaseURL.String()
	kick := m.worker.Kick
	uc := useCases{mounts: map[string]http.Handler{}}
	providers, err := m.providers(uc.mounts)
	if err != nil {
		return err
	}
	operators := cfg.Operators
	if cfg.Dev {
		for _, p := range demo.Personas {
			if p.Operator {
				operators = append(operators, p.Email)
			}
		}
	}
	storage, err := m.storage()
	if err != nil {
		return err
	}
	uc.sessions = app.NewSessions(store, cfg.SessionIdle, cfg.SessionMax)
	uc.accounts = app.NewAccounts(store, az, app.WorkEmailOptions{
		BaseURL: base, VerifyTTL: cfg.VerifyTTL, Operators: operators, Kick: kick,
	})
	uc.signIn = app.NewSignIn(store, uc.sessions, uc.accounts, cfg.DormantAfter, providers)
	uc.requests = app.NewRequests(store, az, app.RequestsOptions{BaseURL: base, TTL: cfg.RequestTTL, Kick: kick})
	uc.tokens = app.NewTokens(store)
	uc.admin = app.NewAdmin(store, az, app.AdminOptions{BaseURL: base, Kick: kick})
	uc.operators = app.NewOperators(store, az, uc.accounts, app.OperatorsOptions{BaseURL: base, Kick: kick})
	uc.audit = app.NewAudit(store, az)
	uc.keys = app.NewKeys(store, az, app.KeysOptions{BaseURL: base, Kick: kick})
	uc.downloads = app.NewDownloads(store, az, app.DownloadsOptions{Storage: storage})
	uc.summary = app.NewSummary(store, az)
	uc.activations = app.NewActivations(store, az, app.ActivationsOptions{BaseURL: base, Kick: kick,
		LeakWindow: cfg.LeakWindow, LeakNetworks: cfg.LeakNetworks})
	m.uc = uc
	return nil
}

// storage is the file storage: the object store OPENLSC_STORAGE_URL names,
// or else the directory OPENLSC_STORAGE_DIR.
func (m *Main) storage() (app.Storage, error) {
	if raw := m.Config.StorageURL; raw != "" {
		opts, err := app.ParseS3URL(raw)
		if err != nil {
			return nil, fmt.Errorf("OPENLSC_STORAGE_URL: %w", err)
		}
		s, err := app.NewS3Storage(opts)
		if err != nil {
			return nil, fmt.Errorf("OPENLSC_STORAGE_URL: %w", err)
		}
		return s, nil
	}
	s, err := app.NewDirStorage(m.Config.StorageDir)
	if err != nil {
		return nil, fmt.Errorf("OPENLSC_STORAGE_DIR: %w", err)
	}
	m.onClose(s.Close)
	return s, nil
}

// providers are the OpenID providers users sign in with: the configured
// ones, and in development mode the development provider, which it mounts.
func (m *Main) providers(mounts map[string]http.Handler) ([]*app.Provider, error) {
	callback := m.Config.BaseURL.String() + "/auth/callback"
	var providers []*app.Provider
	if m.Config.Dev {
		p, h, err := devProvider(m.Config, m.Logger)
		if err != nil {
			return nil, err
		}
		providers = append(providers, app.NewProvider(p, callback, nil))
		mounts[devOIDCPath] = h
	}
	for _, p := range m.Config.Providers {
		providers = append(providers, app.NewProvider(p, callback, nil))
	}
	return providers, nil
}

// newHandler builds the web pages and the HTTP server around them and the
// API. Both draw on one set of rate limits.
func (m *Main) newHandler(context.Context) error {
	gin.SetMode(gin.ReleaseMode)
	uc, lim := m.uc, limits.Defaults()
	pages, err := frontend.New(frontend.Options{
		Status: m.Store, Accounts: uc.accounts, Providers: uc.signIn, Logger: m.Logger, Dev: m.Config.Dev, Version: version,
		InheritancePage: inheritancePage, Limits: lim,
	})
	if err != nil {
		return fmt.Errorf("web UI: %w", err)
	}
	h, err := api.New(api.Options{
		Health: m.Store, Pages: pages, Logger: m.Logger, BaseURL: m.Config.BaseURL, TrustedProxies: m.Config.TrustedProxies,
		Mounts: uc.mounts, Routes: m.pageRoutes(pages), BodyLimits: pages.BodyLimits(), Limits: lim,
		ReadyChecks: []api.ReadyCheck{storageReady(m.Config.StorageDir)},
		Auth:        &api.Auth{Sessions: uc.sessions, SignIn: uc.signIn, Tokens: uc.tokens, InheritancePage: inheritancePage},
		Accounts:    uc.accounts, Access: &api.Access{Authz: m.Authz, Licences: m.Authz},
		Requests: uc.requests, Admin: uc.admin, Operators: uc.operators, Audit: uc.audit, Keys: uc.keys, Downloads: uc.downloads, Summary: uc.summary,
		Activations: uc.activations,
	})
	m.handler = h
	return err
}

// pageRoutes registers the pages of every use case.
func (m *Main) pageRoutes(pages *frontend.UI) []func(gin.IRouter) {
	uc, az := m.uc, m.Authz
	// Page guards: the signed-in user, once their work email is confirmed.
	activeUser := func(c *gin.Context) (int64, bool) {
		user, ok := app.UserID(c.Request.Context())
		if !ok {
			return 0, false
		}
		active, err := uc.accounts.Active(c.Request.Context(), user)
		if err != nil {
			authz.UserFailed(c, err)
		}
		return user, err == nil && active
	}
	guard := authz.Guard{Authorizer: az, Licences: az, User: activeUser}
	routes := []func(gin.IRouter){
		func(r gin.IRouter) { pages.MountAudit(r, uc.audit) },
		func(r gin.IRouter) { pages.MountLicences(r, uc.accounts, guard) },
		func(r gin.IRouter) { pages.MountLicenceUsers(r, uc.admin, guard) },
		func(r gin.IRouter) { pages.MountOperator(r, uc.operators, az.IsOperator) },
		func(r gin.IRouter) { pages.MountKeys(r, uc.keys, guard, az.IsOperator) },
		func(r gin.IRouter) { pages.MountDownloads(r, uc.downloads) },
		func(r gin.IRouter) { pages.MountSummary(r, uc.summary, activeUser) },
		func(r gin.IRouter) { pages.MountOperatorKeys(r, uc.keys, az.IsOperator) },
		func(r gin.IRouter) {
			pages.MountRequests(r, uc.requests)
			pages.MountPermissions(r, uc.accounts)
			pages.MountPreferences(r, uc.accounts)
		},
		func(r gin.IRouter) { pages.MountHelp(r, m.Config.Support) },
		func(r gin.IRouter) { pages.MountTokens(r, uc.tokens) },
		func(r gin.IRouter) { pages.MountActivationCounts(r, uc.keys, m.Store, az.IsOperator) },
		func(r gin.IRouter) {
			pages.MountActivation(r, uc.activations, uc.keys, guard, frontend.ActivationAccess{
				CanRelease: func(user, licence int64) bool {
					return az.Can(user, licence, authz.ActManage) || az.IsOperator(user)
				},
				IsOperator: az.IsOperator,
			})
		},
	}
	if m.Mailbox != nil {
		routes = append(routes, func(r gin.IRouter) { pages.MountDevMail(r, m.Mailbox) })
	}
	return routes
}

func (m *Main) listen(context.Context) error {
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("OPENLSC_ADDR: listen on %s: %w", m.Config.Addr, err)
	}
	m.ln = ln
	m.onClose(func() error {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	})
	return nil
}

// Run serves, and runs the mail worker and the housekeeping, until ctx
// ends; then it shuts down gracefully. Requests still running when the
// shutdown timeout is reached are cut and counted in the log; the server
// still stops cleanly.
func (m *Main) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	bg, stop := context.WithCancel(ctx)
	defer stop()
	wg.Go(func() { m.worker.Run(bg) })
	wg.Go(func() { housekeeping(bg, m.uc.sessions, m.uc.requests, m.Logger) })
	if addr := m.Config.PprofAddr; addr != "" {
		wg.Go(func() { servePprof(bg, addr, m.Logger) })
	}

	srv := &http.Server{
		Handler:           http.HandlerFunc(m.serveCounted),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.Logger.Info("listening", slog.String("addr", m.ln.Addr().String()), slog.String("base_url", m.Config.BaseURL.String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(m.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	m.shutdown(ctx, srv)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	m.Logger.Info("stopped")
	return nil
}

// serveCounted serves a request, counting it while it runs.
func (m *Main) serveCounted(w http.ResponseWriter, r *http.Request) {
	m.inflight.Add(1)
	defer m.inflight.Add(-1)
	m.handler.ServeHTTP(w, r)
}

// shutdown stops accepting requests and waits for the running ones until
// the shutdown timeout; then it closes the connections of those still
// running (slow downloads, say) and logs how many it cut.
func (m *Main) shutdown(ctx context.Context, srv *http.Server) {
	timeout := m.Config.ShutdownTimeout
	m.Logger.Info("shutting down", slog.Duration("timeout", timeout))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err == nil {
		return
	}
	m.Logger.Warn("shutdown timeout reached: cutting the requests still running",
		slog.Int64("requests_cut", m.inflight.Load()), slog.Duration("timeout", timeout))
	_ = srv.Close()
}
