package mail

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"math"
	netmail "net/mail"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/openlsc/openlsc/models"
)

//go:embed templates
var templateFS embed.FS

// layoutName is the file, in each language's directory, that frames the
// bodies of every template: it defines "text_layout" and "html_layout".
const layoutName = "layout"

// blocks are the templates every notification template file defines.
var blocks = []string{"subject", "text", "html"}

// Rendered is a message ready to send.
type Rendered struct {
	From      string // the From header: an address, optionally with a display name
	To        string // the recipient's address
	Subject   string // one line
	Text      string // the plain-text body
	HTML      string // the HTML body, a complete document
	MessageID string // the Message-ID header, with angle brackets
}

// Renderer renders notification templates. It is safe for concurrent use.
type Renderer struct {
	sets map[string]map[string]templateSet // by language, then template name
}

// templateSet is one template in one language, parsed for its text parts
// and for its HTML part.
type templateSet struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewRenderer parses every embedded template in every language. A missing
// or invalid template is an error.
func NewRenderer() (*Renderer, error) {
	sub, err := fs.Sub(templateFS, "templates")
	if err != nil {
		return nil, err
	}
	return newRenderer(sub)
}

// newRenderer parses the templates in fsys, which holds one directory per
// language.
func newRenderer(fsys fs.FS) (*Renderer, error) {
	r := &Renderer{sets: map[string]map[string]templateSet{}}
	known := map[string]bool{layoutName: true}
	for _, name := range Templates() {
		known[name] = true
	}
	for _, lang := range Languages() {
		files, err := fs.Glob(fsys, lang+"/*.tmpl")
		if err != nil {
			return nil, err
		}
		for _, file := range files {
			name := strings.TrimSuffix(file[len(lang)+1:], ".tmpl")
			if !known[name] {
				return nil, fmt.Errorf("mail: template %s: no such notification", file)
			}
		}
		funcs := templateFuncs(lang)
		layout := lang + "/" + layoutName + ".tmpl"
		r.sets[lang] = map[string]templateSet{}
		for _, name := range Templates() {
			file := lang + "/" + name + ".tmpl"
			text, err := texttemplate.New(name).Funcs(funcs).Option("missingkey=error").ParseFS(fsys, layout, file)
			if err != nil {
				return nil, fmt.Errorf("mail: parse template %s: %w", file, err)
			}
			html, err := htmltemplate.New(name).Funcs(funcs).Option("missingkey=error").ParseFS(fsys, layout, file)
			if err != nil {
				return nil, fmt.Errorf("mail: parse template %s: %w", file, err)
			}
			for _, block := range append([]string{"text_layout", "html_layout"}, blocks...) {
				if text.Lookup(block) == nil {
					return nil, fmt.Errorf("mail: template %s: %q is not defined", file, block)
				}
			}
			r.sets[lang][name] = templateSet{text: text, html: html}
		}
	}
	return r, nil
}

// Render renders msg from the address from. The Message-ID is derived from
// id, the message's outbox ID, and the domain of from, so that a message
// sent twice (after a failure that hid a successful send) carries the same
// Message-ID and the receiver can drop the copy.
func (r *Renderer) Render(msg Message, from string, id int64) (Rendered, error) {
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return Rendered{}, fmt.Errorf("mail: the sender address %q is not valid: %w", from, err)
	}
	out, err := r.render(msg)
	if err != nil {
		return Rendered{}, err
	}
	out.From = from
	out.To = msg.To
	out.MessageID = messageID(addr.Address, id)
	return out, nil
}

// messageID returns the Message-ID of outbox message id sent from the
// address from.
func messageID(from string, id int64) string {
	domain := "openlsc.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	return "<openlsc-outbox-" + strconv.FormatInt(id, 10) + "@" + domain + ">"
}

// render executes the subject and both bodies of msg. Every error is a
// models.CodeInvalid error: the message cannot be rendered as it is.
func (r *Renderer) render(msg Message) (Rendered, error) {
	lang := normalizeLanguage(msg.Language)
	set, ok := r.sets[lang][msg.Template]
	if !ok {
		return Rendered{}, models.Invalid("The mail cannot be rendered.",
			models.FieldError{Field: "template", Message: fmt.Sprintf("no template %q", msg.Template)})
	}
	// Templates always see data as it comes back from the outbox's JSON,
	// whether they run at enqueue time or in the worker.
	buf, err := encodeData(msg.Data)
	if err != nil {
		return Rendered{}, models.Invalid("The mail cannot be rendered.", models.FieldError{Field: "data", Message: err.Error()})
	}
	data, err := decodeData(buf)
	if err != nil {
		return Rendered{}, models.Invalid("The mail cannot be rendered.", models.FieldError{Field: "data", Message: err.Error()})
	}
	invalid := func(part string, err error) error {
		return &models.Error{Code: models.CodeInvalid, Message: "The mail cannot be rendered.",
			Fields: []models.FieldError{{Field: "data", Message: fmt.Sprintf("%s %s: %v", msg.Template, part, err)}}}
	}
	var subject, text, html bytes.Buffer
	if err := set.text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return Rendered{}, invalid("subject", err)
	}
	if err := set.text.ExecuteTemplate(&text, "text_layout", data); err != nil {
		return Rendered{}, invalid("text", err)
	}
	if err := set.html.ExecuteTemplate(&html, "html_layout", data); err != nil {
		return Rendered{}, invalid("html", err)
	}
	out := Rendered{
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    tidyText(text.String()),
		HTML:    strings.TrimSpace(html.String()) + "\n",
	}
	if out.Subject == "" {
		return Rendered{}, invalid("subject", errors.New("the subject is empty"))
	}
	return out, nil
}

// tidyText trims trailing spaces from every line and collapses runs of
// blank lines that template actions leave behind.
func tidyText(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	out := make([]string, 0, len(lines))
	blank := false
	for _, line := range lines {
		if line != "-- " { // the signature separator keeps its space
			line = strings.TrimRight(line, " \t\r")
		}
		if line == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n") + "\n"
}

// templateFuncs returns the template functions for lang (see the package
// documentation).
func templateFuncs(lang string) map[string]any {
	tag := language.Make(lang)
	printer := message.NewPrinter(tag)
	layout := "2 January 2006, 15:04 UTC"
	sep := ", "
	if lang == "ja" {
		layout = "2006年1月2日 15:04 (UTC)"
		sep = "、"
	}
	return map[string]any{
		"args": func(v ...any) []any { return v },
		"datetime": func(v any) (string, error) {
			t, err := asTime(v)
			if err != nil {
				return "", err
			}
			return t.UTC().Format(layout), nil
		},
		"permissions": func(v any) (string, error) {
			names, err := asStrings(v)
			if err != nil {
				return "", err
			}
			labels := make([]string, 0, len(names))
			for _, n := range names {
				labels = append(labels, permissionLabel(lang, n))
			}
			return strings.Join(labels, sep), nil
		},
		"num": func(v any) (string, error) {
			switch n := v.(type) {
			case json.Number:
				if i, err := n.Int64(); err == nil {
					return printer.Sprintf("%d", i), nil
				}
				f, err := n.Float64()
				if err != nil {
					return "", err
				}
				return printer.Sprintf("%v", f), nil
			case int:
				return printer.Sprintf("%d", n), nil
			case int64:
				return printer.Sprintf("%d", n), nil
			case float64:
				if n == math.Trunc(n) && math.Abs(n) < 1e15 {
					return printer.Sprintf("%d", int64(n)), nil
				}
				return printer.Sprintf("%v", n), nil
			}
			return "", fmt.Errorf("num: %T is not a number", v)
		},
	}
}

// asTime accepts a time.Time or the RFC 3339 text encoding/json makes of
// one.
func asTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case string:
		parsed, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return time.Time{}, fmt.Errorf("datetime: %q is not an RFC 3339 time", t)
		}
		return parsed, nil
	}
	return time.Time{}, fmt.Errorf("datetime: %T is not a time", v)
}

// asStrings accepts a list of strings, as Go values or as decoded JSON.
func asStrings(v any) ([]string, error) {
	switch l := v.(type) {
	case nil:
		return nil, nil
	case []string:
		return l, nil
	case []any:
		out := make([]string, 0, len(l))
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("permissions: the list holds a %T", e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("permissions: %T is not a list of names", v)
}

// permissionLabel returns the name of a permission as users see it.
func permissionLabel(lang, name string) string {
	labels := map[string][2]string{
		string(models.PermAdministrator):   {"Administrator", "管理者"},
		string(models.PermLicenseViewer):   {"License viewer", "ライセンス閲覧者"},
		string(models.PermDownloadManager): {"Download manager", "ダウンロード管理者"},
		string(models.PermKeyReader):       {"Key reader", "プロダクト キー閲覧者"},
		"operator":                         {"Operator", "オペレーター"},
	}
	l, ok := labels[name]
	if !ok {
		return name
	}
	if lang == "ja" {
		return l[1]
	}
	return l[0]
}
