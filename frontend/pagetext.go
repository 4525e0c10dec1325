package frontend

import (
	"net/http"
	"strings"
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
	patterns map[string]string      // messages of format, with marks for their values
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

// format is get(id, kv...) for a message whose template data (kv: key,
// value, key, value…, all strings) it only prints, as a table repeats in
// every row: the message is localized once per request with marks (private
// use characters, in no message) standing for the values, and each call
// writes its values in place of the marks. A message that tests or
// transforms its data (such as {{if .A}}) must go through get.
func (p *pageText) format(id string, kv ...string) string {
	pattern, ok := p.patterns[id]
	if !ok {
		args := make([]any, 0, len(kv))
		for i := 0; i+1 < len(kv); i += 2 {
			args = append(args, kv[i], string(rune(firstMark+i/2)))
		}
		pattern = p.get(id, args...)
		if p.patterns == nil {
			p.patterns = map[string]string{}
		}
		p.patterns[id] = pattern
	}
	var b strings.Builder
	for {
		// Every mark is three bytes in UTF-8: 0xEE 0x80, then 0x81 for the first.
		i := strings.Index(pattern, "\xee\x80")
		if i < 0 || i+2 >= len(pattern) {
			b.WriteString(pattern)
			return b.String()
		}
		k := int(pattern[i+2]) - 0x81 // which value
		if n := 2*k + 1; k < 0 || n >= len(kv) {
			b.WriteString(pattern[:i+3])
		} else {
			b.WriteString(pattern[:i])
			b.WriteString(kv[2*k+1])
		}
		pattern = pattern[i+3:]
	}
}

// firstMark is the mark of format's first value; the next values get the
// next characters.
const firstMark = '\uE001'
