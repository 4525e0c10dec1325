package mail

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode"

	"github.com/openlsc/openlsc/models"
)

// sampleData returns template data for every template, with every field
// set, and with markup in the free-text fields to check escaping.
func sampleData() map[string]map[string]any {
	expires := time.Date(2026, 3, 14, 9, 26, 0, 0, time.UTC)
	return map[string]map[string]any{
		TemplateVerifyEmail: {
			"Name": `Hanako <b>Yamada</b>`, "Link": "https://lsc.example.com/verify?token=abc&x=1", "Expires": expires,
		},
		TemplateInvitation: {
			"Licence": "Enterprise 12345678", "Permissions": []string{"download_manager", "key_reader"},
			"Link": "https://lsc.example.com/signin",
		},
		TemplateAccessRequestNew: {
			"Requester": `Taro Suzuki <taro@example.co.jp>`, "Licence": "Open License 87654321",
			"Permissions": []models.Permission{models.PermAdministrator}, "Comment": "<script>alert(1)</script>",
			"Link": "https://lsc.example.com/requests/7",
		},
		TemplateAccessRequestDecided: {
			"Licence": "Select Plus 1111", "Approved": true, "Permissions": []string{"license_viewer"},
			"Message": "Welcome & enjoy", "Link": "https://lsc.example.com/",
		},
		TemplateAccessRequestExpired: {"Licence": "Open Value 2222"},
		TemplatePermissionsChanged: {
			"Licence": "Enterprise 3333", "Permissions": []string{"administrator", "key_reader"},
			"Link": "https://lsc.example.com/",
		},
		TemplateActivationDecided: {
			"KeySuffix": "7XKQ9", "Quantity": 1500, "Approved": false, "Message": "Please use KMS.",
			"Link": "https://lsc.example.com/keys",
		},
		TemplateKeyStatusChanged: {
			"Licence": "E2000001", "Product": "Windows 11 Enterprise", "KeySuffix": "7XKQ9", "Status": "blocked",
			"Reason": "leaked", "Note": "Offered on an auction site.", "Replacement": "Q4RT8",
			"Link": "https://lsc.example.com/licences/E2000001/keys",
		},
		TemplateActivationLeak: {
			"Licence": "E2000001", "Product": "Windows 11 Enterprise", "KeySuffix": "7XKQ9", "Networks": 31,
			"Installations": 212, "Days": 30, "Link": "https://lsc.example.com/licences/E2000001/keys",
		},
	}
}

func TestRenderAll(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	data := sampleData()
	if len(data) != len(Templates()) {
		t.Fatalf("sample data for %d templates, there are %d", len(data), len(Templates()))
	}
	for _, name := range Templates() {
		for _, lang := range Languages() {
			t.Run(name+"_"+lang, func(t *testing.T) {
				m, err := r.Render(Message{To: "user@example.com", Language: lang, Template: name, Data: data[name]},
					"OpenLSC <noreply@lsc.example.com>", 42)
				if err != nil {
					t.Fatal(err)
				}
				if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") {
					t.Errorf("subject = %q", m.Subject)
				}
				if got, want := m.MessageID, "<openlsc-outbox-42@lsc.example.com>"; got != want {
					t.Errorf("MessageID = %q, want %q", got, want)
				}
				if m.From != "OpenLSC <noreply@lsc.example.com>" || m.To != "user@example.com" {
					t.Errorf("From, To = %q, %q", m.From, m.To)
				}
				if !strings.HasPrefix(m.HTML, "<!DOCTYPE html>") || !strings.Contains(m.HTML, `<html lang="`+lang+`">`) {
					t.Errorf("HTML is not a %s document:\n%s", lang, m.HTML)
				}
				for _, body := range []string{m.Text, m.HTML} {
					if strings.Contains(body, "<no value>") || strings.Contains(body, "ZgotmplZ") || strings.Contains(body, "%!") {
						t.Errorf("body shows a template problem:\n%s", body)
					}
				}
				if link, ok := data[name]["Link"].(string); ok {
					if !strings.Contains(m.Text, link) {
						t.Errorf("text lacks the link %s:\n%s", link, m.Text)
					}
					if esc := strings.ReplaceAll(link, "&", "&amp;"); !strings.Contains(m.HTML, `href="`+esc+`"`) {
						t.Errorf("HTML lacks a link to %s:\n%s", esc, m.HTML)
					}
				}
				// Data is escaped in HTML and kept as is in text.
				for _, raw := range []string{"<b>Yamada</b>", "<script>", "<taro@example.co.jp>"} {
					if strings.Contains(m.HTML, raw) {
						t.Errorf("HTML contains unescaped %q", raw)
					}
				}
				if name == TemplateVerifyEmail {
					mustContain(t, m.HTML, "Hanako &lt;b&gt;Yamada&lt;/b&gt;")
					mustContain(t, m.Text, "Hanako <b>Yamada</b>")
				}
				if name == TemplateAccessRequestNew {
					mustContain(t, m.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;")
				}
				hasJapanese := strings.IndexFunc(m.Subject+m.Text+m.HTML, func(r rune) bool {
					return unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han)
				}) >= 0
				if hasJapanese != (lang == "ja") {
					t.Errorf("lang %s: Japanese text present = %v\n%s\n%s", lang, hasJapanese, m.Subject, m.Text)
				}
			})
		}
	}
}

func TestRenderFields(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	render := func(t *testing.T, lang, name string, data map[string]any) Rendered {
		t.Helper()
		m, err := r.Render(Message{To: "a@example.com", Language: lang, Template: name, Data: data}, "noreply@example.com", 1)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	data := sampleData()
	t.Run("Datetime", func(t *testing.T) {
		mustContain(t, render(t, "en", TemplateVerifyEmail, data[TemplateVerifyEmail]).Text, "14 March 2026, 09:26 UTC")
		mustContain(t, render(t, "ja", TemplateVerifyEmail, data[TemplateVerifyEmail]).Text, "2026年3月14日 09:26 (UTC)")
	})
	t.Run("Permissions", func(t *testing.T) {
		mustContain(t, render(t, "en", TemplateInvitation, data[TemplateInvitation]).Text, "Download manager, Key reader")
		mustContain(t, render(t, "ja", TemplateInvitation, data[TemplateInvitation]).Text, "ダウンロード管理者、プロダクト キー閲覧者")
	})
	t.Run("Number", func(t *testing.T) {
		m := render(t, "en", TemplateActivationDecided, data[TemplateActivationDecided])
		mustContain(t, m.Text, "1,500 more activations", "declined", "Please use KMS.")
		mustContain(t, m.Subject, "declined")
	})
	t.Run("OptionalFieldsLeftOut", func(t *testing.T) {
		d := data[TemplateAccessRequestNew]
		delete(d, "Comment")
		m := render(t, "en", TemplateAccessRequestNew, d)
		if strings.Contains(m.Text, "Comment") {
			t.Errorf("text mentions a comment:\n%s", m.Text)
		}
	})
	t.Run("NoName", func(t *testing.T) {
		d := data[TemplateVerifyEmail]
		delete(d, "Name")
		en := render(t, "en", TemplateVerifyEmail, d)
		if !strings.HasPrefix(en.Text, "Hello,\n") {
			t.Errorf("English text without a name:\n%s", en.Text)
		}
		ja := render(t, "ja", TemplateVerifyEmail, d)
		if !strings.HasPrefix(ja.Text, "OpenLSC をご利用いただき") || strings.Contains(ja.HTML, "様") {
			t.Errorf("Japanese text without a name:\n%s", ja.Text)
		}
	})
	t.Run("NoPermissionsLeft", func(t *testing.T) {
		d := data[TemplatePermissionsChanged]
		d["Permissions"] = []string{}
		mustContain(t, render(t, "en", TemplatePermissionsChanged, d).Text, "You no longer have any permissions")
		mustContain(t, render(t, "ja", TemplatePermissionsChanged, d).Text, "権限はなくなりました")
	})
	t.Run("UnknownLanguageIsEnglish", func(t *testing.T) {
		mustContain(t, render(t, "fr", TemplateAccessRequestExpired, data[TemplateAccessRequestExpired]).Subject, "has expired")
	})
	t.Run("TextHasNoRunsOfBlankLines", func(t *testing.T) {
		for _, name := range Templates() {
			for _, lang := range Languages() {
				m := render(t, lang, name, data[name])
				if strings.Contains(m.Text, "\n\n\n") {
					t.Errorf("%s/%s: blank lines run together:\n%s", lang, name, m.Text)
				}
			}
		}
	})
}

func TestRenderErrors(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	for name, msg := range map[string]Message{
		"UnknownTemplate": {To: "a@example.com", Template: "nope", Data: map[string]any{}},
		"MissingField":    {To: "a@example.com", Template: TemplateVerifyEmail, Data: map[string]any{"Name": "x", "Link": "https://x"}},
		"BadTime": {To: "a@example.com", Template: TemplateVerifyEmail,
			Data: map[string]any{"Name": "x", "Link": "https://x", "Expires": "tomorrow"}},
		"BadPermissions": {To: "a@example.com", Template: TemplateInvitation,
			Data: map[string]any{"Licence": "x", "Link": "https://x", "Permissions": 3}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := r.Render(msg, "noreply@example.com", 1)
			if got := models.ErrorCode(err); got != models.CodeInvalid {
				t.Errorf("error %v has code %s, want invalid", err, got)
			}
		})
	}
	t.Run("BadFrom", func(t *testing.T) {
		if _, err := r.Render(Message{To: "a@example.com", Template: TemplateAccessRequestExpired,
			Data: map[string]any{"Licence": "x"}}, "not an address", 1); err == nil {
			t.Error("Render with a bad From succeeded")
		}
	})
}

func TestNewRendererErrors(t *testing.T) {
	sub, err := fs.Sub(templateFS, "templates")
	if err != nil {
		t.Fatal(err)
	}
	// valid returns a copy of the embedded templates.
	valid := func() fstest.MapFS {
		m := fstest.MapFS{}
		err := fs.WalkDir(sub, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			buf, err := fs.ReadFile(sub, path)
			m[path] = &fstest.MapFile{Data: buf}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if _, err := newRenderer(valid()); err != nil {
		t.Fatalf("the copy does not parse: %v", err)
	}
	for name, change := range map[string]func(fstest.MapFS){
		"MissingLanguage": func(m fstest.MapFS) { delete(m, "ja/invitation.tmpl") },
		"MissingLayout":   func(m fstest.MapFS) { delete(m, "en/layout.tmpl") },
		"MissingBlock": func(m fstest.MapFS) {
			m["ja/invitation.tmpl"] = &fstest.MapFile{Data: []byte(`{{define "subject"}}x{{end}}{{define "text"}}x{{end}}`)}
		},
		"Unparsable": func(m fstest.MapFS) {
			m["en/invitation.tmpl"] = &fstest.MapFile{Data: []byte(`{{define "subject"}}{{if}}{{end}}`)}
		},
		"UnknownFunction": func(m fstest.MapFS) {
			m["en/invitation.tmpl"] = &fstest.MapFile{Data: []byte(`{{define "subject"}}{{nosuch}}{{end}}`)}
		},
		"UnknownFile": func(m fstest.MapFS) { m["en/invitaton.tmpl"] = m["en/invitation.tmpl"] },
	} {
		t.Run(name, func(t *testing.T) {
			fsys := valid()
			change(fsys)
			if _, err := newRenderer(fsys); err == nil {
				t.Error("newRenderer succeeded")
			}
		})
	}
}

// mustContain fails the test unless s contains every one of wants.
func mustContain(t testing.TB, s string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(s, want) {
			t.Errorf("%q not found in:\n%s", want, s)
		}
	}
}
