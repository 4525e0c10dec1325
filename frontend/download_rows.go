package frontend

import (
	"html/template"
	"strconv"
	"strings"
)

// fileRow is one row of a version's table of files on the downloads page,
// its texts already localized.
type fileRow struct {
	Name, SHA256 string
	Size         int64
	LanguageName string
	SizeLabel    string // the size, localized with its unit
	CopyLabel    string // names the button copying the SHA-256
	LinkURL      string // where the form asks for a download link
	LinkLabel    string // names that form's button
}

// fileRowTexts are the texts every row of the table repeats.
type fileRowTexts struct {
	Copy, Copied, GetLink string
}

// fileRowsHTML writes the rows of a table of files, each as downloads.html
// wrote them with html/template, every value escaped for HTML text and
// quoted attributes. A heavy user's page has hundreds of rows, and
// html/template made a dozen reflective calls per row, to its escapers and
// to look fields up by name: more than half the page's time.
// TestFileRowsHTMLAsTemplate holds the two to the same output.
func fileRowsHTML(rows []fileRow, t fileRowTexts) template.HTML {
	var b strings.Builder
	b.Grow(len(rows) * 900)
	esc := template.HTMLEscapeString
	for _, r := range rows {
		sha := esc(r.SHA256)
		b.WriteString("\n        <tr>\n          <td>")
		b.WriteString(esc(r.LanguageName))
		b.WriteString("</td>\n          <th scope=\"row\">")
		b.WriteString(esc(r.Name))
		b.WriteString("</th>\n          <td><data value=\"")
		b.WriteString(strconv.FormatInt(r.Size, 10))
		b.WriteString("\">")
		b.WriteString(esc(r.SizeLabel))
		b.WriteString("</data></td>\n          <td class=\"sha-cell\"><code class=\"sha256\" title=\"")
		b.WriteString(sha)
		b.WriteString("\">")
		b.WriteString(sha)
		b.WriteString("</code> <button type=\"button\" class=\"btn-quiet btn-small copy\" data-copy=\"")
		b.WriteString(sha)
		b.WriteString("\" data-copied=\"")
		b.WriteString(esc(t.Copied))
		b.WriteString("\" aria-label=\"")
		b.WriteString(esc(r.CopyLabel))
		b.WriteString("\" hidden>")
		b.WriteString(esc(t.Copy))
		b.WriteString("</button></td>\n          <td>\n            <form method=\"post\" action=\"")
		b.WriteString(esc(r.LinkURL))
		b.WriteString("\" class=\"inline-form\">\n              <button type=\"submit\" aria-label=\"")
		b.WriteString(esc(r.LinkLabel))
		b.WriteString("\">")
		b.WriteString(esc(t.GetLink))
		b.WriteString("</button>\n            </form>\n          </td>\n        </tr>")
	}
	return template.HTML(b.String()) // every value escaped above
}
