package frontend

import (
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/app"
)

// navAccounts is fakeAccounts with the side navigation's answer.
type navAccounts struct {
	fakeAccounts
	nav app.Navigation
}

func (a navAccounts) Navigation(int64, bool) app.Navigation { return a.nav }

// TestSideNavigation checks that the side navigation offers only what the
// user may use: no pending requests or audit log for someone who
// administers nothing, the operators' group only for operators.
func TestSideNavigation(t *testing.T) {
	for _, tt := range []struct {
		name      string
		nav       app.Navigation
		want, not []string
	}{
		{"Staff", app.Navigation{},
			[]string{`<nav class="sidenav" id="sidenav" aria-label="Main">`, `<a href="/" aria-current="page">Home</a>`, `href="/access-requests/new"`, `href="/downloads"`},
			[]string{`href="/access-requests/pending"`, `href="/audit"`, `href="/operator"`}},
		{"Administrator", app.Navigation{Licences: true, Administer: true},
			[]string{`href="/access-requests/pending"`, `href="/audit"`},
			[]string{`href="/operator"`}},
		{"Operator", app.Navigation{Operator: true},
			[]string{`href="/operator"`, `href="/operator/import"`, `href="/operator/activations"`, `href="/audit"`},
			[]string{`href="/access-requests/pending"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, Options{Accounts: navAccounts{nav: tt.nav}, Providers: fakeProviders{}})
			e := gin.New()
			e.Use(fakeSession)
			s.ui.Mount(e)
			s.engine = e
			body := s.get(t, "/", "X-Test-User: 7").Body.String()
			mustContain(t, body, tt.want...)
			mustNotContain(t, body, tt.not...)
		})
	}
}
