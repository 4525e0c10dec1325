// Package api is OpenLSC's HTTP layer: the server's middleware, health and
// metrics endpoints, and the JSON API under /api/v1. Handlers parse and
// render; decisions are made by the packages they call.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Health is what the readiness probe asks of the storage.
type Health interface {
	Ping(ctx context.Context) error
	Status(ctx context.Context) (models.Status, error)
}

// Pages is the server-rendered web UI.
type Pages interface {
	Mount(r gin.IRouter)
	NotFound(c *gin.Context)
	Error(c *gin.Context, status int, err error)
}

// Options configure New.
type Options struct {
	Health         Health
	Pages          Pages
	Logger         *slog.Logger
	BaseURL        *url.URL
	TrustedProxies []string
	// Registry collects the metrics served at /metrics; a new one when nil.
	Registry *prometheus.Registry
	// Auth enables sign-in, sessions and the signed-in API; nil disables them.
	Auth *Auth
	// Mounts serves other handlers under path prefixes (such as the
	// development OpenID provider under /dev/oidc); each gets the full path.
	Mounts map[string]http.Handler
	// Routes registers more routes (such as the development mailbox pages)
	// behind the same middleware.
	Routes []func(gin.IRouter)
}

// Server is OpenLSC's HTTP handler.
type Server struct {
	handler http.Handler
	engine  *gin.Engine
	opts    Options
}

// New builds the HTTP handler with its middleware and routes.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
		opts.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	metrics, err := newHTTPMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	// gin trusts every proxy unless told otherwise; an empty list trusts none.
	if err := e.SetTrustedProxies(opts.TrustedProxies); err != nil {
		return nil, err
	}
	s := &Server{engine: e, opts: opts}
	e.Use(requestContext(opts.Logger), securityHeaders(opts.BaseURL != nil && opts.BaseURL.Scheme == "https"),
		metrics.middleware, recovery(s.fail))

	e.GET("/healthz", func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	e.GET("/readyz", s.ready)
	e.GET("/api/openapi.json", ServeOpenAPI)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{})))

	e.NoRoute(func(c *gin.Context) {
		s.fail(c, models.Errorf(models.CodeNotFound, "There is nothing at %s.", c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		if isAPI(c) {
			writeProblem(c, Problem{Type: "about:blank", Title: http.StatusText(http.StatusMethodNotAllowed),
				Status: http.StatusMethodNotAllowed, Detail: "This method is not allowed here.", RequestID: RequestID(c)})
			return
		}
		s.opts.Pages.Error(c, http.StatusMethodNotAllowed, models.Errorf(models.CodeInvalid, "This method is not allowed here."))
	})
	if opts.Auth != nil {
		e.Use(s.loadSession)
		if opts.Auth.Tokens != nil {
			e.Use(s.bearer)
		}
		signIn := newLimiter(3*time.Second, 20) // per client address
		e.GET("/auth/login", s.rateLimit(signIn), s.login)
		e.GET("/auth/callback", s.rateLimit(signIn), s.callback)
		e.POST("/auth/logout", s.logout)
		v1 := e.Group("/api/v1", s.requireUser)
		v1.GET("/me", s.me)
		register := newLimiter(10*time.Minute, 5) // confirmation mails per address
		verify := newLimiter(3*time.Second, 20)
		v1.PUT("/me/work-email", s.rateLimit(register), s.putWorkEmail)
		v1.POST("/me/work-email/verify", s.rateLimit(verify), s.verifyWorkEmail)
		s.mountPermissions(v1)
		v1.PUT("/me/preferences", s.putPreferences)
		if opts.Auth.Requests != nil {
			s.mountRequests(v1)
		}
		if opts.Auth.Tokens != nil {
			s.mountTokens(v1)
		}
		if opts.Auth.Admin != nil {
			s.mountAdmin(v1)
		}
		if opts.Auth.Authz != nil {
			s.mountLicences(v1)
		}
		if opts.Auth.Operators != nil {
			s.mountOperator(v1)
		}
		if opts.Auth.Audit != nil {
			MountAudit(v1, opts.Auth.Audit, opts.Auth.Accounts.Active)
		}
		if opts.Auth.Downloads != nil {
			MountDownloads(v1, e, opts.Auth.Downloads, opts.Auth.Accounts.Active)
		}
		if opts.Auth.Keys != nil {
			MountKeys(v1, opts.Auth.Keys, authz.Guard{Authorizer: opts.Auth.Authz, Licences: opts.Auth.Licences, User: s.activeUser, Fail: s.fail})
		}
	}
	for prefix, h := range opts.Mounts {
		e.Any(prefix+"/*path", gin.WrapH(h))
	}
	for _, register := range opts.Routes {
		register(e)
	}
	if opts.Pages != nil {
		opts.Pages.Mount(e)
	}
	// Browsers send Sec-Fetch-Site or Origin; a cross-site state-changing
	// request is refused before any handler runs.
	s.handler = http.NewCrossOriginProtection().Handler(e)
	return s, nil
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// fail answers with err: problem+json for the API, a page otherwise.
func (s *Server) fail(c *gin.Context, err error) {
	if isAPI(c) || s.opts.Pages == nil {
		WriteError(c, err)
		return
	}
	code := models.ErrorCode(err)
	if code == models.CodeNotFound {
		s.opts.Pages.NotFound(c)
		c.Abort()
		return
	}
	s.opts.Pages.Error(c, StatusOf(code), err)
	c.Abort()
}

// ready answers 200 when the database answers and its schema is current.
func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	c.Header("Cache-Control", "no-store")
	unready := func(detail string, err error) {
		loggerFrom(c).WarnContext(ctx, "not ready", slog.String("reason", detail), slog.Any("error", err))
		writeProblem(c, Problem{Type: "about:blank", Title: http.StatusText(http.StatusServiceUnavailable),
			Status: http.StatusServiceUnavailable, Detail: detail, RequestID: RequestID(c)})
	}
	if s.opts.Health == nil {
		unready("no database configured", errors.New("no health source"))
		return
	}
	if err := s.opts.Health.Ping(ctx); err != nil {
		unready("The database does not answer.", err)
		return
	}
	st, err := s.opts.Health.Status(ctx)
	if err != nil {
		unready("The database status cannot be read.", err)
		return
	}
	if !st.Ready() {
		unready("Database migrations are pending.", nil)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "database": st.Database, "schema_version": st.SchemaVersion})
}
