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
	copied, copyText, getLink := esc(t.Copied), esc(t.Copy), esc(t.GetLink)
	for _, r := range rows {
		sha := esc(r.SHA256)
		for _, part := range [...]string{
			"\n        <tr>\n          <td>", esc(r.LanguageName),
			"</td>\n          <th scope=\"row\">", esc(r.Name),
			"</th>\n          <td><data value=\"", strconv.FormatInt(r.Size, 10), "\">", esc(r.SizeLabel),
			"</data></td>\n          <td class=\"sha-cell\"><code class=\"sha256\" title=\"", sha, "\">", sha,
			"</code> <button type=\"button\" class=\"btn-quiet btn-small copy\" data-copy=\"", sha,
			"\" data-copied=\"", copied, "\" aria-label=\"", esc(r.CopyLabel), "\" hidden>", copyText,
			"</button></td>\n          <td>\n            <form method=\"post\" action=\"", esc(r.LinkURL),
			"\" class=\"inline-form\">\n              <button type=\"submit\" aria-label=\"", esc(r.LinkLabel), "\">", getLink,
			"</button>\n            </form>\n          </td>\n        </tr>",
		} {
			b.WriteString(part)
		}
	}
	return template.HTML(b.String()) // every value escaped above
}
