// Package frontend serves OpenLSC's server-rendered web pages.
//
// Pages are html/template files embedded from templates/: layout.html is the
// frame, and every other file is a page that defines the blocks "title" and
// "content". All of them are parsed at start-up, once per language, with the
// template functions asset, t, num and datetime (see UI.funcs). Messages
// live in locales/en.json and locales/ja.json. Static files in static/ are
// served under content-hashed URLs that may be cached for good.
//
// A page's language is the visitor's choice from a ?lang= link (kept in a
// cookie), else the best match for Accept-Language, else English.
package frontend

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/language"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/api/limits"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

//go:embed templates/*.html
var templateFS embed.FS

// layoutFile holds the page frame that every other template fills in.
const layoutFile = "templates/layout.html"

// StatusSource reports the service's state for the home page.
type StatusSource interface {
	Status(ctx context.Context) (models.Status, error)
}

// Options configures the web UI.
type Options struct {
	Status    StatusSource // required
	Accounts  Accounts     // account pages and the signed-in header; nil leaves them out
	Providers Providers    // required with Accounts: the sign-in page lists them
	// InheritancePage, when set, is where a user who has just become an
	// MBSA administrator is asked about inheritance.
	InheritancePage string
	Logger          *slog.Logger // receives errors; slog.Default() when nil
	Dev             bool         // development mode: show a visible "development mode" banner
	Version         string       // build version shown in the footer
	// Limits are the rate limits of the forms, shared with the API routes
	// that do the same; limits.Defaults() when nil.
	Limits *limits.Set
}

// UI is the set of server-rendered pages. It is safe for concurrent use.
type UI struct {
	inheritancePage string
	status          StatusSource
	accounts        Accounts
	providers       Providers
	logger          *slog.Logger
	dev             bool
	version         string
	limits          *limits.Set

	assets *assets
	i18n   *translations
	// pages holds, for each supported language, every page template by
	// file name (for example "home.html"), each bound to that language's
	// messages.
	pages map[language.Tag]map[string]*template.Template
}

// New parses every embedded template and hashes every static asset; an
// unparsable template is an error (fails start-up).
func New(opts Options) (*UI, error) {
	if opts.Status == nil {
		return nil, errors.New("frontend: Options.Status is required")
	}
	if (opts.Accounts == nil) != (opts.Providers == nil) {
		return nil, errors.New("frontend: Options.Accounts and Options.Providers go together")
	}
	u := &UI{
		inheritancePage: opts.InheritancePage,
		status:          opts.Status,
		accounts:        opts.Accounts,
		providers:       opts.Providers,
		logger:          opts.Logger,
		dev:             opts.Dev,
		version:         opts.Version,
		limits:          opts.Limits,
	}
	if u.limits == nil {
		u.limits = limits.Defaults()
	}
	if u.logger == nil {
		u.logger = slog.Default()
	}
	var err error
	if u.assets, err = loadAssets(); err != nil {
		return nil, fmt.Errorf("frontend: %w", err)
	}
	if u.i18n, err = loadTranslations(); err != nil {
		return nil, fmt.Errorf("frontend: %w", err)
	}
	if u.pages, err = u.parsePages(templateFS); err != nil {
		return nil, fmt.Errorf("frontend: %w", err)
	}
	return u, nil
}

// BodyLimits are the request body limits of the pages that take more than
// limits.DefaultBody, by "METHOD /route".
func (u *UI) BodyLimits() map[string]int64 {
	return map[string]int64{"POST /operator/import": maxImportRequest}
}

// limit refuses with a 429 page and Retry-After a form post over l's limit
// for its client address or signed-in account. The API routes that do the
// same thing draw on the same limiter.
func (u *UI) limit(l *limits.Limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		user, signedIn := app.UserID(c.Request.Context())
		if ok, wait := l.Allow(limits.Keys(c, user, signedIn)...); !ok {
			limits.RetryAfter(c, wait)
			u.Error(c, http.StatusTooManyRequests, models.New(models.CodeTooMany, "err.rate_limited", "Too many attempts. Wait a while and try again."))
			c.Abort()
			return
		}
		c.Next()
	}
}

// parsePages parses every page template in fsys together with the layout,
// once for each supported language.
func (u *UI) parsePages(fsys fs.FS) (map[language.Tag]map[string]*template.Template, error) {
	files, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[language.Tag]map[string]*template.Template, len(u.i18n.langs))
	for _, lang := range u.i18n.langs {
		pages[lang.tag] = make(map[string]*template.Template)
		for _, file := range files {
			if file == layoutFile {
				continue
			}
			name := path.Base(file)
			tmpl, err := template.New(name).Funcs(u.funcs(lang.tag)).ParseFS(fsys, layoutFile, file)
			if err != nil {
				return nil, fmt.Errorf("parse template %s: %w", name, err)
			}
			for _, block := range []string{"layout", "title", "content"} {
				if tmpl.Lookup(block) == nil {
					return nil, fmt.Errorf("template %s: %q is not defined", name, block)
				}
			}
			pages[lang.tag][name] = tmpl
		}
	}
	return pages, nil
}

// funcs returns the template functions bound to one language:
//
//	asset "app.css"                  the content-hashed URL of a static file
//	t "MessageID" ["Key" value ...]  the localized message, with template data
//	num 1234                         an integer with digit grouping
//	datetime .Time                   a date and time in UTC
func (u *UI) funcs(lang language.Tag) template.FuncMap {
	return template.FuncMap{
		"asset":    u.assets.url,
		"t":        u.i18n.translator(lang, u.logger),
		"num":      numberFormatter(lang),
		"datetime": dateTimeFormatter(lang),
	}
}

// Mount registers the page routes and static assets on r. The URLs it
// generates are absolute, so r must be the root router or a group at "/".
func (u *UI) Mount(r gin.IRouter) {
	r.GET(assetPrefix+":name", u.serveAsset)
	r.HEAD(assetPrefix+":name", u.serveAsset)
	r.GET("/", u.page(u.home))
	// Browsers ask for /favicon.ico on pages that link no icon (such as the
	// development sign-in): send them to the hashed one.
	if icon, err := u.assets.url("favicon.svg"); err == nil {
		r.GET("/favicon.ico", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, icon) })
	}
	if u.accounts != nil {
		u.mountAccount(r)
	}
}

// page wraps a page handler so that a ?lang= parameter is handled first.
func (u *UI) page(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if u.switchLanguage(c) {
			return
		}
		h(c)
	}
}

// NotFound renders the localized 404 page (used by the server's NoRoute).
func (u *UI) NotFound(c *gin.Context) {
	if u.switchLanguage(c) {
		return
	}
	u.render(c, http.StatusNotFound, "notfound.html", "", nil)
}

// errorView is the data of the error page.
type errorView struct {
	TitleID string              // message ID of the page title
	Message string              // safe, user-facing text from the application; empty for a generic message
	Fields  []models.FieldError // what is wrong with each input field, for invalid input
	Generic string              // message ID of the generic text shown when Message is empty
}

// Error renders a localized error page for err with the given HTTP status;
// for status >= 500 it shows only a generic message and never internal
// text. Below 500, the message of a *models.Error that is not internal is
// shown (see models.ErrorMessage); any other error gets the generic text for
// the status. Server errors are logged with their cause. A status outside
// 400-599 is treated as 500.
func (u *UI) Error(c *gin.Context, status int, err error) {
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	v := errorView{TitleID: errorTitleID(status), Generic: errorGenericID(status)}
	switch {
	case status == http.StatusServiceUnavailable:
		httperr.SetRetryAfter(c)
		httperr.LogUnavailable(c, u.logger.With("method", c.Request.Method, "path", c.Request.URL.Path), err)
	case status >= 500:
		u.logger.ErrorContext(c.Request.Context(), "request failed",
			"method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "err", err)
	case err != nil && models.ErrorCode(err) != models.CodeInternal:
		// An *Error's message is meant for users; anything else gets the
		// generic text for the status.
		v.Message = u.errorText(c, err)
		var e *models.Error
		if errors.As(err, &e) {
			v.Fields = u.fieldTexts(c, e.Fields)
		}
	default:
		u.logger.WarnContext(c.Request.Context(), "request failed",
			"method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "err", err)
	}
	u.render(c, status, "error.html", "", v)
	c.Abort()
}

// errorTitleID returns the message ID of the error page title for status.
func errorTitleID(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return "error.bad_request.title"
	case http.StatusUnauthorized:
		return "error.unauthorized.title"
	case http.StatusForbidden:
		return "error.forbidden.title"
	case http.StatusNotFound:
		return "notfound.title"
	case http.StatusConflict:
		return "error.conflict.title"
	case http.StatusTooManyRequests:
		return "error.too_many_requests.title"
	case http.StatusServiceUnavailable:
		return "error.unavailable.title"
	}
	if status >= 500 {
		return "error.internal.title"
	}
	return "error.client.title"
}

// errorGenericID returns the message ID of the generic explanation for status.
func errorGenericID(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "error.unauthorized.message"
	case http.StatusForbidden:
		return "error.forbidden.message"
	case http.StatusNotFound:
		return "notfound.message"
	case http.StatusConflict:
		return "error.conflict.message"
	case http.StatusTooManyRequests:
		return "error.too_many_requests.message"
	case http.StatusServiceUnavailable:
		return "error.unavailable.message"
	}
	if status >= 500 {
		return "error.internal.message"
	}
	return "error.client.message"
}

// view is the data every page template receives.
type view struct {
	Lang      string         // BCP 47 tag of the page language
	Languages []languageLink // the language switch
	Dev       bool           // development mode
	Version   string         // build version
	Nav       string         // navigation entry of the current page, if any
	Accounts  bool           // sign-in is available
	User      *userView      // the signed-in user, nil when nobody is
	Data      any            // the page's own data
}

// render executes the page template name in the request's language and
// writes it with the given status. nav names the current navigation entry.
func (u *UI) render(c *gin.Context, status int, name, nav string, data any) {
	lang := u.i18n.negotiate(c.Request)
	tmpl := u.pages[lang][name]
	if tmpl == nil {
		u.renderFailed(c, fmt.Errorf("no template %q", name))
		return
	}
	v := view{
		Lang:      lang.String(),
		Languages: u.i18n.languageLinks(lang),
		Dev:       u.dev,
		Version:   u.version,
		Nav:       nav,
		Accounts:  u.accounts != nil,
		User:      u.currentUser(c),
		Data:      data,
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "layout", v); err != nil {
		u.renderFailed(c, fmt.Errorf("render %s: %w", name, err))
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Language", v.Lang)
	h.Add("Vary", "Accept-Language")
	h.Add("Vary", "Cookie")
	if h.Get("Cache-Control") == "" { // a page may ask for no-store
		h.Set("Cache-Control", "private, no-cache")
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// renderFailed answers with a bare 500 when a page cannot be rendered: the
// error page itself might be what failed.
func (u *UI) renderFailed(c *gin.Context, err error) {
	u.logger.ErrorContext(c.Request.Context(), "page rendering failed", "path", c.Request.URL.Path, "err", err)
	c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Internal Server Error\n"))
	c.Abort()
}
