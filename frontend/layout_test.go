package frontend

import (
	"context"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
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

// asStatusOperator is the header that signs a request in as the operator of
// newOperatorServer.
const asStatusOperator = "X-Test-User: 7"

// operatorAccounts answers Summary with an operator.
type operatorAccounts struct{ fakeAccounts }

func (a operatorAccounts) Summary(ctx context.Context, user int64) (*app.MeView, error) {
	me, err := a.fakeAccounts.Summary(ctx, user)
	if me != nil {
		me.Operator = true
	}
	return me, err
}

// newOperatorServer is newTestServer with a signed-in operator (send
// asStatusOperator).
func newOperatorServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	opts.Accounts, opts.Providers = operatorAccounts{}, fakeProviders{}
	s := newTestServer(t, opts)
	e := gin.New()
	e.Use(fakeSession)
	s.ui.Mount(e)
	s.engine = e
	return s
}

// dashAccounts is fakeAccounts with a dashboard.
type dashAccounts struct {
	fakeAccounts
	dash *app.DashboardView
}

func (a dashAccounts) Dashboard(context.Context, int64) (*app.DashboardView, error) {
	return a.dash, nil
}

// TestHomeAnonymous checks that the anonymous home page says what the
// service is and how to sign in, and shows nothing of the database.
func TestHomeAnonymous(t *testing.T) {
	s := newTestServer(t, Options{Dev: true})
	for _, lang := range []string{"en", "ja"} {
		body := s.get(t, "/", "Accept-Language: "+lang).Body.String()
		mustNotContain(t, body, "SQLite", "status-heading", "1,234", "<dd>")
		mustContain(t, body, `id="how-heading"`, `id="demo-heading"`, "it-admin@contoso.example", "operator@openlsc.example")
	}
	mustNotContain(t, newTestServer(t, Options{}).get(t, "/").Body.String(), `id="demo-heading"`)
}

// TestHomeDashboard checks the signed-in home page: the tasks waiting, MAKs
// nearly used up, agreements ending soon and licences with only one
// administrator, in both languages; and no service status for non-operators.
func TestHomeDashboard(t *testing.T) {
	dash := &app.DashboardView{
		Verified: true, Licences: 3, Administer: true, PendingRequests: 2,
		MyRequests: []models.AccessRequest{{ID: 5, LicenseNumber: "E2000001", Status: models.RequestApproved}},
		Keys:       []app.DashboardKey{{KeyUsage: models.KeyUsage{AgreementNumber: "E2000001", Product: "Windows Enterprise", Suffix: "WFP4D", ActivationLimit: 500, ActivationsUsed: 495}, Percent: 99}},
		Expiring:   []app.DashboardAgreement{{Number: "S2000003", Ends: "2027-01-31", Days: 62}},
		SoleAdmin:  []string{"V4000004"},
	}
	s := newTestServer(t, Options{Accounts: dashAccounts{dash: dash}, Providers: fakeProviders{}})
	e := gin.New()
	e.Use(fakeSession)
	s.ui.Mount(e)
	s.engine = e
	body := s.get(t, "/", "X-Test-User: 7").Body.String()
	mustContain(t, body, "Welcome, Haruto Ito", `<a href="/access-requests/pending">2 access requests to decide</a>`,
		`href="/licences/E2000001/keys"`, "99 % used (495 of 500)", "badge-danger",
		"S2000003 ends on 2027-01-31", "62 days left",
		`<a href="/licences/V4000004/users">You are the only administrator of V4000004</a>`,
		"Your request for E2000001", `<span class="badge badge-ok">Approved</span>`)
	mustNotContain(t, body, "status-heading", "SQLite")
	if t.Failed() {
		t.Log(s.log.String())
	}
	body = s.get(t, "/", "X-Test-User: 7", "Accept-Language: ja").Body.String()
	mustContain(t, body, "承認待ちのアクセス リクエスト 2 件", "V4000004 の管理者はあなた 1 人だけです", "残り 62 日")
}
