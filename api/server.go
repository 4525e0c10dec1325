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
	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/api/limits"
	"github.com/openlsc/openlsc/app"
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

// Options configure New. Each use case enables its group of routes; a nil
// one leaves its routes out.
type Options struct {
	Health         Health
	Pages          Pages
	Logger         *slog.Logger
	BaseURL        *url.URL
	TrustedProxies []string
	// Registry collects the metrics served at /metrics; a new one when nil.
	Registry *prometheus.Registry
	// Mounts serves other handlers under path prefixes (such as the
	// development OpenID provider under /dev/oidc); each gets the full path.
	Mounts map[string]http.Handler
	// Routes registers more routes (such as the development mailbox pages)
	// behind the same middleware.
	Routes []func(gin.IRouter)
	// BodyLimits sets the request body limit of routes that need another
	// than limits.DefaultBody, by "METHOD /route/:pattern".
	BodyLimits map[string]int64
	// Limits are the rate limits, shared with the web pages;
	// limits.Defaults() when nil.
	Limits *limits.Set

	// Auth enables sign-in, sessions and the signed-in API under /api/v1;
	// nil disables them and every use case below.
	Auth *Auth
	// Accounts serves the signed-in user's own account (/api/v1/me…) and
	// licence tree; required with Auth.
	Accounts *app.Accounts
	// Access decides who may do what on which licence. It enables
	// GET /api/v1/licences/{licence}; Admin, Operators and Keys need it.
	Access    *Access
	Requests  *app.Requests  // access requests
	Admin     *app.Admin     // licence administration
	Operators *app.Operators // the operators' desk
	Audit     *app.Audit     // the audit log
	Keys      *app.Keys      // product keys and activation requests
	Downloads *app.Downloads // downloads
	Summary   *app.Summary   // the licence summary
	// Activations serves the vendor's software (online activation, the
	// signing keys) without a session and, with Access, the installations
	// of a key under /api/v1.
	Activations *app.Activations
	// ReadyChecks are more conditions of readiness (such as a readable
	// storage directory), each answering nil when all is well.
	ReadyChecks []ReadyCheck
}

// Access is the authorization policy and how licence ids in paths are
// resolved, for the routes that guard a licence.
type Access struct {
	Authz    *authz.Authorizer
	Licences authz.LicenceResolver
}

// ReadyCheck is one condition /readyz checks besides the database.
type ReadyCheck struct {
	Detail string // what an unready answer says, e.g. "The storage directory cannot be read."
	Check  func(ctx context.Context) error
}

// WriteProber is a Health that can also tell whether the database accepts
// writes (a database that answers reads may be read-only or full).
type WriteProber interface {
	ProbeWrite(ctx context.Context) error
}

// Server is OpenLSC's HTTP handler.
type Server struct {
	handler http.Handler
	engine  *gin.Engine
	opts    Options
	limits  *limits.Set
	// imports admits one import upload at a time, bounding the memory
	// that decoding them takes.
	imports chan struct{}
	faults  *httperr.FaultLog
}

// New builds the HTTP handler with its middleware and routes.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Auth != nil && opts.Accounts == nil {
		return nil, errors.New("api: Options.Auth needs Options.Accounts")
	}
	if opts.Access == nil && (opts.Admin != nil || opts.Operators != nil || opts.Keys != nil) {
		return nil, errors.New("api: Options.Admin, Operators and Keys need Options.Access")
	}
	s := &Server{opts: opts, limits: opts.Limits, imports: make(chan struct{}, 1), faults: &httperr.FaultLog{}}
	if s.limits == nil {
		s.limits = limits.Defaults()
	}
	e := gin.New()
	s.engine = e
	if err := s.useMiddleware(e); err != nil {
		return nil, err
	}
	s.mountProbes(e)
	if opts.Activations != nil {
		if s.limits.Activation == nil {
			s.limits.Activation = limits.Defaults().Activation
		}
		s.mountActivation(e)
	}
	if opts.Auth != nil {
		s.mountSignedIn(e)
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

// useMiddleware sets up e with the middleware every request passes.
func (s *Server) useMiddleware(e *gin.Engine) error {
	opts := s.opts
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
		opts.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		s.opts.Registry = opts.Registry
	}
	metrics, err := newHTTPMetrics(opts.Registry)
	if err != nil {
		return err
	}
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	// gin trusts every proxy unless told otherwise; an empty list trusts none.
	if err := e.SetTrustedProxies(opts.TrustedProxies); err != nil {
		return err
	}
	bodies := map[string]int64{"POST /api/v1/operator/import": maxImportUpload}
	for route, n := range opts.BodyLimits {
		bodies[route] = n
	}
	e.Use(requestContext(opts.Logger), httperr.TrackFaults(s.faults), securityHeaders(opts.BaseURL != nil && opts.BaseURL.Scheme == "https"),
		metrics.middleware, recovery(s.fail), limits.Body(bodies, s.fail), refuseBadText(s.fail))
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
	return nil
}

// mountProbes registers the health, readiness, OpenAPI and metrics routes.
func (s *Server) mountProbes(e *gin.Engine) {
	e.GET("/healthz", func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	e.GET("/readyz", s.ready)
	e.GET("/api/openapi.json", ServeOpenAPI)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{})))
}

// mountSignedIn registers sign-in, the session and token middleware, and
// the /api/v1 routes of every use case given.
func (s *Server) mountSignedIn(e *gin.Engine) {
	o := s.opts
	e.Use(s.loadSession)
	if o.Auth.Tokens != nil {
		e.Use(s.bearer)
	}
	e.GET("/auth/login", s.rateLimit(s.limits.SignIn), s.login)
	e.GET("/auth/callback", s.rateLimit(s.limits.SignIn), s.callback)
	e.POST("/auth/logout", s.logout)
	v1 := e.Group("/api/v1", s.requireUser)
	v1.GET("/me", s.me)
	v1.PUT("/me/work-email", s.rateLimit(s.limits.WorkEmail), s.putWorkEmail)
	v1.POST("/me/work-email/verify", s.rateLimit(s.limits.Verify), s.verifyWorkEmail)
	s.mountPermissions(v1)
	v1.PUT("/me/preferences", s.putPreferences)
	if o.Auth.Tokens != nil {
		s.mountTokens(v1)
	}
	if o.Requests != nil {
		s.mountRequests(v1)
	}
	if o.Access != nil {
		s.mountLicences(v1)
	}
	if o.Admin != nil {
		s.mountAdmin(v1)
	}
	if o.Operators != nil {
		s.mountOperator(v1)
	}
	if o.Audit != nil {
		MountAudit(v1, o.Audit, o.Accounts.Active)
	}
	if o.Downloads != nil {
		MountDownloads(v1, e, o.Downloads, o.Accounts.Active, o.Pages)
	}
	if o.Keys != nil {
		MountKeys(v1, o.Keys, s.guard())
	}
	if o.Summary != nil && o.Access != nil {
		MountSummary(v1, o.Summary, s.guard())
	}
	if o.Activations != nil && o.Access != nil {
		MountInstallations(v1, o.Activations, s.guard(), s.rateLimit(s.limits.Activation))
	}
}

// guard lets through, on licence routes, the active users holding a
// permission on the licence.
func (s *Server) guard() authz.Guard {
	return authz.Guard{Authorizer: s.opts.Access.Authz, Licences: s.opts.Access.Licences, User: s.activeUser, Fail: s.fail}
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
	s.opts.Pages.Error(c, httperr.Status(err), err)
	c.Abort()
}

// ready answers 200 when the database answers and its schema is current.
func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	c.Header("Cache-Control", "no-store")
	unready := func(detail string, err error) {
		loggerFrom(c).WarnContext(ctx, "not ready", slog.String("reason", detail), slog.Any("error", err))
		httperr.SetRetryAfter(c)
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
	if w, ok := s.opts.Health.(WriteProber); ok {
		if err := w.ProbeWrite(ctx); err != nil {
			unready("The database does not accept writes.", err)
			return
		}
	}
	for _, rc := range s.opts.ReadyChecks {
		if err := rc.Check(ctx); err != nil {
			unready(rc.Detail, err)
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "database": st.Database, "schema_version": st.SchemaVersion})
}
