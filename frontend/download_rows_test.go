package frontend

import (
	"html/template"
	"strings"
	"testing"
)

// fileRowsTemplate is how downloads.html wrote the rows before
// fileRowsHTML: the two must write the same bytes.
const fileRowsTemplate = `
        {{- range .Rows}}
        <tr>
          <td>{{.LanguageName}}</td>
          <th scope="row">{{.Name}}</th>
          <td><data value="{{.Size}}">{{.SizeLabel}}</data></td>
          <td class="sha-cell"><code class="sha256" title="{{.SHA256}}">{{.SHA256}}</code> <button type="button" class="btn-quiet btn-small copy" data-copy="{{.SHA256}}" data-copied="{{$.Texts.Copied}}" aria-label="{{.CopyLabel}}" hidden>{{$.Texts.Copy}}</button></td>
          <td>
            <form method="post" action="{{.LinkURL}}" class="inline-form">
              <button type="submit" aria-label="{{.LinkLabel}}">{{$.Texts.GetLink}}</button>
            </form>
          </td>
        </tr>
        {{- end}}`

func TestFileRowsHTMLAsTemplate(t *testing.T) {
	// Every character HTML gives a meaning to, in text and in quoted
	// attributes, in every value.
	hostile := `<b>"Tom's" & co</b>`
	rows := []fileRow{
		{Name: "win11_en.iso", SHA256: strings.Repeat("ab", 32), Size: 5_000_000_000, LanguageName: "English",
			SizeLabel: "4.7\u00a0GB", CopyLabel: "Copy the SHA-256 of win11_en.iso", LinkURL: "/downloads/101/link", LinkLabel: "Get download link: win11_en.iso"},
		{Name: hostile + ".iso", SHA256: hostile, Size: 0, LanguageName: hostile, SizeLabel: hostile,
			CopyLabel: hostile, LinkURL: "/downloads/102/link", LinkLabel: hostile},
		{Name: "ウィンドウズ.iso", SHA256: "cd", Size: 1573, LanguageName: "日本語", SizeLabel: "1.5\u00a0KB",
			CopyLabel: "コピー", LinkURL: "/downloads/103/link", LinkLabel: "リンク"},
	}
	for _, texts := range []fileRowTexts{
		{Copy: "Copy", Copied: "Copied", GetLink: "Get download link"},
		{Copy: hostile, Copied: hostile, GetLink: hostile},
	} {
		tmpl := template.Must(template.New("rows").Parse(fileRowsTemplate))
		var want strings.Builder
		if err := tmpl.Execute(&want, struct {
			Rows  []fileRow
			Texts fileRowTexts
		}{rows, texts}); err != nil {
			t.Fatal(err)
		}
		if got := string(fileRowsHTML(rows, texts)); got != want.String() {
			t.Errorf("fileRowsHTML differs from html/template:\n got %s\nwant %s", got, want.String())
		}
		if got := string(fileRowsHTML(nil, texts)); got != "" {
			t.Errorf("no rows: %q", got)
		}
	}
	got := string(fileRowsHTML(rows[1:2], fileRowTexts{}))
	if strings.Contains(got, "<b>") || strings.Contains(got, `"Tom`) || !strings.Contains(got, "&lt;b&gt;&#34;Tom&#39;s&#34; &amp; co&lt;/b&gt;") {
		t.Errorf("not escaped: %s", got)
	}
}
