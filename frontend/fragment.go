package frontend

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

// fragment renders the template name, defined in the page template page,
// with data, in the request's language: a piece of a page that its
// handler repeats, escaped by html/template as in the page itself (in HTML
// text).
func (u *UI) fragment(r *http.Request, page, name string, data any) (template.HTML, error) {
	tmpl := u.pages[u.i18n.negotiate(r)][page]
	if tmpl == nil {
		return "", fmt.Errorf("no template %q", page)
	}
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s of %s: %w", name, page, err)
	}
	return template.HTML(b.String()), nil // html/template's escaped output
}
