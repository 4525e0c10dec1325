package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Context keys set by the middleware.
const (
	keyRequestID = "openlsc.request_id"
	keyLogger    = "openlsc.logger"
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// RequestID returns the id of the request, as sent in X-Request-ID.
func RequestID(c *gin.Context) string { return c.GetString(keyRequestID) }

// requestLog is the request's logger, built from its attributes only when
// something is logged: most requests log nothing below the configured level.
type requestLog struct {
	base   *slog.Logger
	attrs  []any
	logger *slog.Logger // base with attrs, once asked for
}

func (l *requestLog) get() *slog.Logger {
	if l.logger == nil {
		l.logger = l.base.With(l.attrs...)
	}
	return l.logger
}

// loggerFrom returns the request's logger, carrying its id.
func loggerFrom(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(keyLogger); ok {
		return l.(*requestLog).get()
	}
	return slog.Default()
}

// SetLogAttrs adds attributes (such as the user id, once known) to the
// request's log lines.
func SetLogAttrs(c *gin.Context, attrs ...any) {
	if l, ok := c.Get(keyLogger); ok {
		rl := l.(*requestLog)
		rl.attrs, rl.logger = append(rl.attrs, attrs...), nil
		return
	}
	c.Set(keyLogger, &requestLog{base: slog.Default(), attrs: attrs})
}

// requestContext gives every request an id (kept from a trusted proxy's
// X-Request-ID when well-formed) and a logger carrying it, and logs the
// request when it ends. The query string is never logged: it can hold
// single-use tokens.
func requestContext(base *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !validRequestID.MatchString(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(keyRequestID, id)
		c.Header("X-Request-ID", id)
		c.Set(keyLogger, &requestLog{base: base, attrs: []any{slog.String("request_id", id)}})
		start := time.Now()
		c.Next()
		level := slog.LevelInfo
		status := c.Writer.Status()
		if status >= 500 && status != http.StatusServiceUnavailable {
			level = slog.LevelError // a 503 is logged once per burst (LogUnavailable)
		}
		if c.Request.URL.Path == "/healthz" || c.Request.URL.Path == "/readyz" || c.Request.URL.Path == "/metrics" {
			level = slog.LevelDebug
		}
		if !base.Enabled(c.Request.Context(), level) {
			return
		}
		loggerFrom(c).Log(c.Request.Context(), level, "request",
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Int("bytes", c.Writer.Size()),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", c.ClientIP()),
		)
	}
}

// securityHeaders sets the headers every response carries. The CSP allows
// no inline script or style and nothing from other origins.
func securityHeaders(https bool) gin.HandlerFunc {
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
	// The keys are canonical and each value a slice of length and capacity
	// one, shared by every response: Header.Set would canonicalize each key
	// and allocate each value again per request, and Add on a shared value
	// appends to a copy.
	fixed := map[string][]string{
		"Content-Security-Policy":    {csp},
		"X-Content-Type-Options":     {"nosniff"},
		"X-Frame-Options":            {"DENY"},
		"Referrer-Policy":            {"same-origin"},
		"Cross-Origin-Opener-Policy": {"same-origin"},
		"Permissions-Policy":         {"camera=(), microphone=(), geolocation=(), payment=()"},
	}
	if https {
		fixed["Strict-Transport-Security"] = []string{"max-age=63072000; includeSubDomains"}
	}
	return func(c *gin.Context) {
		h := c.Writer.Header()
		for k, v := range fixed {
			h[k] = v
		}
		c.Next()
	}
}

// recovery turns a panic into a logged internal error with a generic answer.
func recovery(onError func(c *gin.Context, err error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				loggerFrom(c).ErrorContext(c.Request.Context(), "panic", slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
				if !c.Writer.Written() {
					onError(c, fmt.Errorf("panic: %v", r))
				}
				c.Abort()
			}
		}()
		c.Next()
	}
}

// httpMetrics counts requests and their latency by route pattern (not by
// raw path, so ids in paths do not explode the label set).
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openlsc_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "openlsc_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *httpMetrics) middleware(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
	m.duration.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
}

// isAPI reports whether the request is for the JSON API.
func isAPI(c *gin.Context) bool {
	p := c.Request.URL.Path
	return strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz"
}

func jsonRender(w http.ResponseWriter, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}
