package frontend

import (
	"net/http"
	"time"
)

// pageText localizes, in Go, the strings of a page's long tables, so that
// their rows print fields instead of calling the template function t (a
// reflective call and a message lookup each) several times per row.
// Messages without arguments are looked up once per request; nothing is
// kept between requests. The first message that cannot be localized is
// kept in err: the page must then not be rendered (as a failing t would
// stop the template).
type pageText struct {
	t        func(string, ...any) (string, error)
	num      func(int64) string     // as the template function num
	datetime func(time.Time) string // as the template function datetime
	plain    map[string]string      // messages without arguments, already looked up
	err      error
}

// pageText returns the localizer of the request's page language.
func (u *UI) pageText(r *http.Request) *pageText {
	lang := u.i18n.negotiate(r)
	return &pageText{t: u.i18n.translator(lang, u.logger), num: numberFormatter(lang), datetime: dateTimeFormatter(lang),
		plain: map[string]string{}}
}

// get is the message id in the page's language with the template data
// args (key/value pairs), as t "id" args... in a template.
func (p *pageText) get(id string, args ...any) string {
	if len(args) == 0 {
		if s, ok := p.plain[id]; ok {
			return s
		}
	}
	s, err := p.t(id, args...)
	if err != nil {
		if p.err == nil {
			p.err = err
		}
		return ""
	}
	if len(args) == 0 {
		p.plain[id] = s
	}
	return s
}
