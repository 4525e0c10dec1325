package frontend

import (
	"testing"

	"github.com/gin-gonic/gin"
)

// TestHelpPage checks the help page: the support contacts of the page's
// language (all of them when none is), and every question in both
// languages with an anchor that other pages link to.
func TestHelpPage(t *testing.T) {
	contacts := []SupportContact{
		{Language: "en", Name: "Support desk", Email: "support@lsc.example", Phone: "+1 555 0100", Hours: "9–17 UTC"},
		{Language: "ja", Region: "日本", Name: "サポート窓口", Email: "support@lsc.example.jp"},
	}
	s := newTestServer(t, Options{})
	e := gin.New()
	s.ui.Mount(e)
	s.ui.MountHelp(e, contacts)
	s.engine = e
	body := s.get(t, "/help").Body.String()
	mustContain(t, body, "<h1>Help and contact</h1>", "Support desk", `<a href="mailto:support@lsc.example">`, `href="tel:`, "9–17 UTC",
		`<details id="no-licence">`, `<details id="request-failed">`, "I signed in but no licence is shown. Why?")
	mustNotContain(t, body, "サポート窓口")
	body = s.get(t, "/help", "Accept-Language: ja").Body.String()
	mustContain(t, body, "サポート窓口", "(日本)", "サインインしたのに、ライセンスが表示されません。")
	mustNotContain(t, body, "Support desk")
	for _, q := range helpQuestions {
		mustContain(t, body, `<details id="`+q+`">`)
	}

	s = newTestServer(t, Options{})
	e = gin.New()
	s.ui.MountHelp(e, nil)
	s.engine = e
	mustContain(t, s.get(t, "/help").Body.String(), "have not published support contacts yet")
}
