package authz_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

var system = models.Actor{Label: "system"}

// fixture is a database with two MBSAs, enrollments and a stand-alone
// licence, some users, and an Authorizer over it.
type fixture struct {
	t     *testing.T
	s     *models.Store
	a     *authz.Authorizer
	lic   map[string]int64 // agreement number → id
	users map[string]int64 // name → id
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureAt(t, modelstest.URL(t), authz.Options{})
}

// newFixtureAt builds the fixture in the database at url.
func newFixtureAt(t *testing.T, url string, opts authz.Options) *fixture {
	t.Helper()
	s := modelstest.Open(t, url, models.Options{Keyring: modelstest.Keyring(t)})
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}, {Number: "C2", Name: "Fabrikam"}},
		Agreements: []models.ImportAgreement{
			{Program: "mbsa", Number: "M1", Organization: "C1"},
			{Program: "enterprise", Number: "E1", Organization: "C1", Parent: "M1"},
			{Program: "select_plus", Number: "S1", Organization: "C1", Parent: "M1"},
			{Program: "open_value", Number: "V1", Organization: "C1"},
			{Program: "mbsa", Number: "M2", Organization: "C2"},
			{Program: "enterprise", Number: "E2", Organization: "C2", Parent: "M2"},
		},
	}
	if _, err := s.Import(context.Background(), doc, models.ImportOptions{Actor: system}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, s: s, lic: map[string]int64{}, users: map[string]int64{}}
	for _, a := range doc.Agreements {
		f.lic[a.Number] = f.agreement(a.Number)
	}
	for _, name := range []string{"admin", "admin2", "viewer", "downloader", "keyreader", "operator", "mbsa", "stranger"} {
		u, _, _, err := s.SignIn(context.Background(), models.IdentityClaims{Issuer: "https://idp.test", Subject: name, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		f.users[name] = u.ID
	}
	a, err := authz.New(context.Background(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	f.a = a
	return f
}

func (f *fixture) id(n string) *int64 { v := f.lic[n]; return &v }

// agreement returns the id of the agreement numbered number.
func (f *fixture) agreement(number string) int64 {
	f.t.Helper()
	id, err := f.s.AgreementID(context.Background(), number)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// do runs fn in a transaction and fails the test on error.
func (f *fixture) do(fn func(tx *models.Tx) error) {
	f.t.Helper()
	if err := f.s.InTx(context.Background(), fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) grant(user, lic string, perm models.Permission, source models.GrantSource) {
	f.t.Helper()
	var l *int64
	if lic != "" {
		l = f.id(lic)
	}
	f.do(func(tx *models.Tx) error { return f.a.Grant(tx, system, f.users[user], l, perm, source) })
}

func (f *fixture) inherit(user, mbsa string, on bool) {
	f.t.Helper()
	uid := f.users[user]
	f.do(func(tx *models.Tx) error {
		return f.a.SetInheritance(tx, models.Actor{UserID: &uid, Label: "user"}, uid, f.lic[mbsa], on)
	})
}

type check struct {
	user, lic string
	act       authz.Action
	want      bool
}

func (f *fixture) expect(step string, checks []check) {
	f.t.Helper()
	for _, c := range checks {
		if got := f.a.Can(f.users[c.user], f.lic[c.lic], c.act); got != c.want {
			f.t.Errorf("%s: Can(%s, %s, %s) = %v, want %v", step, c.user, c.lic, c.act, got, c.want)
		}
	}
}

var allActions = []authz.Action{authz.ActView, authz.ActDownload, authz.ActReadKeys, authz.ActManage}

// only lists, for user on lic, every action with the ones in allowed true.
func only(user, lic string, allowed ...authz.Action) []check {
	var out []check
	for _, act := range allActions {
		want := false
		for _, a := range allowed {
			want = want || a == act
		}
		out = append(out, check{user, lic, act, want})
	}
	return out
}

func concat(groups ...[]check) []check {
	var out []check
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func TestMatrix(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	f := newFixture(t)
	f.grant("admin", "E1", models.PermAdministrator, models.SourceDirect)
	f.grant("viewer", "E1", models.PermLicenseViewer, models.SourceDirect)
	f.grant("downloader", "E1", models.PermDownloadManager, models.SourceDirect)
	f.grant("keyreader", "E1", models.PermKeyReader, models.SourceContact)
	f.grant("operator", "", models.PermOperator, models.SourceDirect)
	f.grant("mbsa", "M1", models.PermAdministrator, models.SourceContact)

	f.expect("permissions", concat(
		only("admin", "E1", allActions...), // administrator implies the others
		only("admin", "S1"),                // nothing on a sibling licence
		only("admin", "M1"),                // nor on the parent
		only("viewer", "E1", authz.ActView),
		only("downloader", "E1", authz.ActDownload),
		only("keyreader", "E1", authz.ActReadKeys),
		only("operator", "E1", authz.ActView), // operators see every licence, no keys or downloads
		only("operator", "E2", authz.ActView),
		only("stranger", "E1"),
		only("mbsa", "M1", allActions...),
		only("mbsa", "E1"), // no inheritance chosen yet
	))
	if !f.a.Can(f.users["operator"], 0, authz.ActOperate) || f.a.Can(f.users["admin"], f.lic["E1"], authz.ActOperate) {
		t.Error("operate is for operators only")
	}

	f.inherit("mbsa", "M1", true)
	f.expect("inherit on", concat(
		only("mbsa", "E1", allActions...),
		only("mbsa", "S1", allActions...),
		only("mbsa", "V1"), // not under the MBSA
		only("mbsa", "E2"), // under another MBSA
	))

	// An agreement imported under the MBSA later is covered at once.
	doc := &models.ImportDocument{Agreements: []models.ImportAgreement{{Program: "enterprise", Number: "E3", Organization: "C1", Parent: "M1"}}}
	if _, err := f.s.Import(context.Background(), doc, models.ImportOptions{Actor: system}); err != nil {
		t.Fatal(err)
	}
	f.lic["E3"] = f.agreement("E3")
	if err := f.a.AgreementsChanged(context.Background(), []int64{f.lic["E3"]}); err != nil {
		t.Fatal(err)
	}
	f.expect("agreement added later", only("mbsa", "E3", allActions...))

	// Off: the MBSA's agreements are hidden except grants of their own.
	f.grant("mbsa", "S1", models.PermLicenseViewer, models.SourceDirect)
	f.inherit("mbsa", "M1", false)
	f.expect("inherit off", concat(
		only("mbsa", "E1"),
		only("mbsa", "E3"),
		only("mbsa", "S1", authz.ActView),
		only("mbsa", "M1", allActions...),
	))
	f.inherit("mbsa", "M1", true)
	f.expect("inherit on again", concat(only("mbsa", "E1", allActions...), only("mbsa", "S1", allActions...)))

	// Losing administration of the MBSA ends inheritance.
	f.do(func(tx *models.Tx) error {
		return f.a.Revoke(tx, system, f.users["mbsa"], f.id("M1"), models.PermAdministrator, models.SourceContact)
	})
	f.expect("MBSA administration revoked", concat(only("mbsa", "M1"), only("mbsa", "E1"), only("mbsa", "S1", authz.ActView)))

	// A fresh load from the database agrees with the incremental changes.
	fresh, err := authz.New(context.Background(), f.s, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for user := range f.users {
		for lic := range f.lic {
			for _, act := range allActions {
				if got, want := fresh.Can(f.users[user], f.lic[lic], act), f.a.Can(f.users[user], f.lic[lic], act); got != want {
					t.Errorf("reloaded Can(%s, %s, %s) = %v, incremental %v", user, lic, act, got, want)
				}
			}
		}
	}
}

func TestGuards(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	as := func(name string) models.Actor {
		id := f.users[name]
		return models.Actor{UserID: &id, Label: "user:" + name}
	}
	try := func(fn func(tx *models.Tx) error) error { return f.s.InTx(ctx, fn) }

	f.grant("admin", "E1", models.PermAdministrator, models.SourceDirect)
	f.grant("viewer", "E1", models.PermLicenseViewer, models.SourceContact)

	// The last administrator cannot be removed, not even by themself.
	err := try(func(tx *models.Tx) error {
		return f.a.Revoke(tx, as("admin"), f.users["admin"], f.id("E1"), models.PermAdministrator, models.SourceDirect)
	})
	if !errors.Is(err, authz.ErrLastAdministrator) {
		t.Errorf("removing the last administrator: %v", err)
	}
	// A non-administrator cannot grant.
	err = try(func(tx *models.Tx) error {
		return f.a.Grant(tx, as("viewer"), f.users["stranger"], f.id("E1"), models.PermKeyReader, models.SourceDirect)
	})
	if !errors.Is(err, authz.ErrNotAllowed) {
		t.Errorf("non-administrator granting: %v", err)
	}
	// An administrator adds a second administrator; now the first may go.
	f.do(func(tx *models.Tx) error {
		return f.a.Grant(tx, as("admin"), f.users["admin2"], f.id("E1"), models.PermAdministrator, models.SourceDirect)
	})
	f.do(func(tx *models.Tx) error {
		return f.a.Revoke(tx, as("admin2"), f.users["admin"], f.id("E1"), models.PermAdministrator, models.SourceDirect)
	})
	f.expect("after removal", only("admin", "E1"))

	// Contact-derived grants are not the administrators' to remove.
	err = try(func(tx *models.Tx) error {
		return f.a.Revoke(tx, as("admin2"), f.users["viewer"], f.id("E1"), models.PermLicenseViewer, models.SourceContact)
	})
	if !errors.Is(err, authz.ErrContactGrant) {
		t.Errorf("revoking a contact grant: %v", err)
	}
	err = try(func(tx *models.Tx) error {
		return f.a.Grant(tx, as("admin2"), f.users["stranger"], f.id("E1"), models.PermLicenseViewer, models.SourceContact)
	})
	if !errors.Is(err, authz.ErrContactGrant) {
		t.Errorf("an administrator making a contact grant: %v", err)
	}
	// An administrator of a sibling licence manages nothing here. (The
	// target is not the last administrator: removing that one is refused
	// as a conflict before anything else, so that of two administrators
	// removing each other at once the second always gets ErrLastAdministrator.)
	f.grant("stranger", "S1", models.PermAdministrator, models.SourceDirect)
	f.grant("keyreader", "E1", models.PermKeyReader, models.SourceDirect)
	err = try(func(tx *models.Tx) error {
		return f.a.Revoke(tx, as("stranger"), f.users["keyreader"], f.id("E1"), models.PermKeyReader, models.SourceDirect)
	})
	if !errors.Is(err, authz.ErrNotAllowed) {
		t.Errorf("sibling administrator revoking: %v", err)
	}
	f.do(func(tx *models.Tx) error {
		return f.a.Revoke(tx, as("admin2"), f.users["keyreader"], f.id("E1"), models.PermKeyReader, models.SourceDirect)
	})

	// Inherited administration cannot be revoked on the child.
	f.grant("mbsa", "M1", models.PermAdministrator, models.SourceContact)
	f.inherit("mbsa", "M1", true)
	err = try(func(tx *models.Tx) error {
		return f.a.Revoke(tx, as("admin2"), f.users["mbsa"], f.id("E1"), models.PermAdministrator, models.SourceDirect)
	})
	if !errors.Is(err, authz.ErrInheritedGrant) {
		t.Errorf("revoking inherited administration: %v", err)
	}
	// Inheritance is the user's own choice, on an MBSA they administer.
	err = try(func(tx *models.Tx) error {
		return f.a.SetInheritance(tx, as("admin2"), f.users["mbsa"], f.lic["M1"], false)
	})
	if !errors.Is(err, authz.ErrNotAllowed) {
		t.Errorf("choosing for someone else: %v", err)
	}
	err = try(func(tx *models.Tx) error {
		return f.a.SetInheritance(tx, as("admin2"), f.users["admin2"], f.lic["M1"], true)
	})
	if !errors.Is(err, authz.ErrNotAllowed) {
		t.Errorf("inheriting an MBSA one does not administer: %v", err)
	}

	// Operators appoint the first administrator of a licence without one, only.
	f.grant("operator", "", models.PermOperator, models.SourceDirect)
	f.do(func(tx *models.Tx) error {
		return f.a.Grant(tx, as("operator"), f.users["admin"], f.id("V1"), models.PermAdministrator, models.SourceDirect)
	})
	err = try(func(tx *models.Tx) error {
		return f.a.Grant(tx, as("operator"), f.users["stranger"], f.id("V1"), models.PermAdministrator, models.SourceDirect)
	})
	if !errors.Is(err, authz.ErrNotAllowed) {
		t.Errorf("operator appointing a second administrator: %v", err)
	}

	// Users lists sources, including inherited administration.
	got, err := f.a.Users(ctx, f.lic["E1"])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		fmt.Sprintf("%d administrator direct", f.users["admin2"]):   true,
		fmt.Sprintf("%d license_viewer contact", f.users["viewer"]): true,
		fmt.Sprintf("%d administrator inherited", f.users["mbsa"]):  true,
	}
	if len(got) != len(want) {
		t.Errorf("Users(E1) = %+v", got)
	}
	for _, g := range got {
		if !want[fmt.Sprintf("%d %s %s", g.UserID, g.Permission, g.Source)] {
			t.Errorf("unexpected grant %+v", g)
		}
	}
	// With an inheriting MBSA administrator, E1's direct administrator may leave.
	f.do(func(tx *models.Tx) error {
		return f.a.Revoke(tx, as("admin2"), f.users["admin2"], f.id("E1"), models.PermAdministrator, models.SourceDirect)
	})
}

func TestChangesAreAtomic(t *testing.T) {
	f := newFixture(t)
	grantAudits := func() int64 { return modelstest.Count(t, f.s, models.AuditEvent{Kind: authz.AuditGrant}) }
	audits := grantAudits()
	boom := errors.New("later step failed")
	err := f.s.InTx(context.Background(), func(tx *models.Tx) error {
		if err := f.a.Grant(tx, system, f.users["admin"], f.id("E1"), models.PermAdministrator, models.SourceDirect); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
	f.expect("rolled back", only("admin", "E1"))
	n, after := modelstest.Count(t, f.s, models.Grant{}), grantAudits()
	if n != 0 || after != audits {
		t.Errorf("a rolled-back grant left %d grants and %d audit events", n, after-audits)
	}
	// A committed grant has exactly one audit event.
	f.grant("admin", "E1", models.PermAdministrator, models.SourceDirect)
	f.grant("admin", "E1", models.PermAdministrator, models.SourceDirect) // again: nothing new
	after = grantAudits()
	if after != audits+1 {
		t.Errorf("%d grant audit events, want 1", after-audits)
	}
}

func TestLicences(t *testing.T) {
	f := newFixture(t)
	f.grant("mbsa", "M1", models.PermAdministrator, models.SourceContact)
	f.grant("mbsa", "E1", models.PermKeyReader, models.SourceDirect)
	f.inherit("mbsa", "M1", true)
	got := map[int64]authz.LicenceAccess{}
	for _, la := range f.a.Licences(f.users["mbsa"]) {
		got[la.AgreementID] = la
	}
	if len(got) != 3 {
		t.Fatalf("Licences = %+v, want M1, E1 and S1", got)
	}
	if la := got[f.lic["M1"]]; la.Inherited || len(la.Permissions) != 1 || la.Permissions[0] != models.PermAdministrator {
		t.Errorf("M1: %+v", la)
	}
	if la := got[f.lic["E1"]]; !la.Inherited || len(la.Permissions) != 2 || la.Permissions[0] != models.PermAdministrator {
		t.Errorf("E1: %+v", la)
	}
	if la := got[f.lic["S1"]]; !la.Inherited {
		t.Errorf("S1: %+v", la)
	}
	if n := len(f.a.Licences(f.users["stranger"])); n != 0 {
		t.Errorf("stranger sees %d licences", n)
	}
}
