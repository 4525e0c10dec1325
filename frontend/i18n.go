package frontend

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed locales/*.json
var localeFS embed.FS

// langCookie remembers the language a visitor chose with ?lang=.
const langCookie = "openlsc_lang"

// langCookieMaxAge is how long, in seconds, the language choice is kept.
const langCookieMaxAge = 365 * 24 * 60 * 60

// supportedLanguage is a language the UI is translated into.
type supportedLanguage struct {
	tag  language.Tag
	name string // the language's name in itself, for the language switch
}

// supportedLanguages lists the UI languages; the first is the default.
func supportedLanguages() []supportedLanguage {
	return []supportedLanguage{
		{language.English, "English"},
		{language.Japanese, "日本語"},
	}
}

// translations holds the message catalogue and chooses a language for each
// request.
type translations struct {
	langs      []supportedLanguage // the supported languages, default first
	localizers map[language.Tag]*i18n.Localizer
	matcher    language.Matcher
	ids        map[language.Tag]map[string]bool // the message IDs each language has
}

// loadTranslations loads the embedded message file of every supported
// language.
func loadTranslations() (*translations, error) {
	tr := &translations{langs: supportedLanguages(), localizers: map[language.Tag]*i18n.Localizer{},
		ids: map[language.Tag]map[string]bool{}}
	bundle := i18n.NewBundle(tr.langs[0].tag)
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	tags := make([]language.Tag, 0, len(tr.langs))
	for _, lang := range tr.langs {
		file := "locales/" + lang.tag.String() + ".json"
		buf, err := localeFS.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("load messages: %w", err)
		}
		mf, err := bundle.ParseMessageFileBytes(buf, file)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", file, err)
		}
		tr.ids[lang.tag] = make(map[string]bool, len(mf.Messages))
		for _, m := range mf.Messages {
			tr.ids[lang.tag][m.ID] = true
		}
		tr.localizers[lang.tag] = i18n.NewLocalizer(bundle, lang.tag.String())
		tags = append(tags, lang.tag)
	}
	tr.matcher = language.NewMatcher(tags)
	return tr, nil
}

// lookup returns the supported language whose code is exactly code.
func (tr *translations) lookup(code string) (language.Tag, bool) {
	for _, lang := range tr.langs {
		if code == lang.tag.String() {
			return lang.tag, true
		}
	}
	return language.Und, false
}

// negotiate chooses the language of a response: the visitor's saved choice,
// else the best match for Accept-Language, else the default.
func (tr *translations) negotiate(r *http.Request) language.Tag {
	if c, err := r.Cookie(langCookie); err == nil {
		if tag, ok := tr.lookup(c.Value); ok {
			return tag
		}
	}
	if accept := r.Header.Get("Accept-Language"); accept != "" {
		if tags, _, err := language.ParseAcceptLanguage(accept); err == nil && len(tags) > 0 {
			if _, i, conf := tr.matcher.Match(tags...); conf != language.No {
				return tr.langs[i].tag
			}
		}
	}
	return tr.langs[0].tag
}

// switchLanguage handles a ?lang= parameter: it saves a supported choice in
// a cookie and redirects to the same URL without the parameter. It reports
// whether it answered the request.
func (u *UI) switchLanguage(c *gin.Context) bool {
	q := c.Request.URL.Query()
	if !q.Has("lang") {
		return false
	}
	if tag, ok := u.i18n.lookup(q.Get("lang")); ok {
		setLanguageCookie(c, tag)
	}
	q.Del("lang")
	target := c.Request.URL.EscapedPath()
	// A path such as "//evil.example/" would be read by the browser as
	// another host: never redirect anywhere but this site.
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.HasPrefix(target, `/\`) {
		target = "/"
	}
	if rest := q.Encode(); rest != "" {
		target += "?" + rest
	}
	c.Redirect(http.StatusSeeOther, target)
	c.Abort()
	return true
}

// languageLink is one entry of the language switch.
type languageLink struct {
	Code    string // BCP 47 tag, for ?lang=, lang and hreflang
	Name    string // the language's name in itself
	Current bool   // whether the page is in this language
}

// languageLinks returns the language switch for a page in lang.
func (tr *translations) languageLinks(lang language.Tag) []languageLink {
	links := make([]languageLink, 0, len(tr.langs))
	for _, l := range tr.langs {
		links = append(links, languageLink{Code: l.tag.String(), Name: l.name, Current: l.tag == lang})
	}
	return links
}

// translator returns the template function t for lang: t "MessageID" looks
// up a message, and further arguments are key/value pairs of its template
// data (t "footer.version" "Version" .Version).
func (tr *translations) translator(lang language.Tag, logger *slog.Logger) func(string, ...any) (string, error) {
	loc := tr.localizers[lang]
	return func(id string, args ...any) (string, error) {
		cfg := &i18n.LocalizeConfig{MessageID: id}
		if len(args) > 0 {
			if len(args)%2 != 0 {
				return "", fmt.Errorf("t %q: odd number of arguments", id)
			}
			data := make(map[string]any, len(args)/2)
			for i := 0; i < len(args); i += 2 {
				key, ok := args[i].(string)
				if !ok {
					return "", fmt.Errorf("t %q: argument %d is not a string key", id, i+1)
				}
				data[key] = args[i+1]
			}
			cfg.TemplateData = data
		}
		msg, err := loc.Localize(cfg)
		var notFound *i18n.MessageNotFoundErr
		switch {
		case err == nil:
			return msg, nil
		case msg != "" && errors.As(err, &notFound):
			// Missing in this language: the default language's text is
			// better than a broken page.
			logger.Warn("message not translated", "id", id, "lang", lang.String())
			return msg, nil
		default:
			return "", fmt.Errorf("t %q: %w", id, err)
		}
	}
}

// numberFormatter returns the template function num for lang: an integer
// with the language's digit grouping.
func numberFormatter(lang language.Tag) func(int64) string {
	p := message.NewPrinter(lang)
	return func(n int64) string { return p.Sprintf("%d", n) }
}

// dateTimeFormatter returns the template function datetime for lang: a
// date and time in UTC, written the way the language writes them.
func dateTimeFormatter(lang language.Tag) func(time.Time) string {
	layout := "2 January 2006, 15:04 UTC"
	if lang == language.Japanese {
		layout = "2006年1月2日 15:04 (UTC)"
	}
	return func(t time.Time) string { return t.UTC().Format(layout) }
}

// setLanguageCookie remembers the visitor's choice of page language.
func setLanguageCookie(c *gin.Context, tag language.Tag) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     langCookie,
		Value:    tag.String(),
		Path:     "/",
		MaxAge:   langCookieMaxAge,
		Expires:  time.Now().Add(langCookieMaxAge * time.Second),
		HttpOnly: true,
		Secure:   c.Request.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
}
