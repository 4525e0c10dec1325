package frontend

import (
	"net/http/httptest"
	"testing"
)

// TestPageTextFormat checks that format, which localizes a message once
// with marks for its values, gives what get gives, whatever the values.
func TestPageTextFormat(t *testing.T) {
	s := newTestServer(t, Options{})
	values := []string{"Ann", "", "{{.Name}}", "a\uE001b\uE002c", "<b>&amp;</b>", "Zoë 日本"}
	for _, lang := range []string{"en", "ja"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", lang)
		text := s.ui.pageText(r)
		for _, v := range values {
			for _, m := range []struct {
				id string
				kv []string
			}{
				{"users.edit", []string{"Name", v}},
				{"confirm.remove_user", []string{"Name", v}},
				{"keys.reveal_label", []string{"Product", v, "Suffix", "AB" + v}},
				{"keys.usage_as_of", []string{"Used", v, "Limit", "500", "Time", v + "!"}},
				{"downloads.files_caption", []string{"Product", "P", "Version", v}},
			} {
				args := make([]any, 0, len(m.kv))
				for _, s := range m.kv {
					args = append(args, s)
				}
				got, want := text.format(m.id, m.kv...), text.get(m.id, args...)
				if got != want {
					t.Errorf("%s %s %q: format gives %q, get %q", lang, m.id, v, got, want)
				}
			}
		}
		if text.err != nil {
			t.Fatal(text.err)
		}
	}
}
