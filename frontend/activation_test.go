package frontend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/api/limits"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// activationPagesEnv is the keys pages' environment with the activation
// pages mounted, on an activation service that flags a key seen from more
// than two networks. Its form posts draw on limiter.
type activationPagesEnv struct {
	*keysPageEnv
	acts *app.Activations
	mak  string // the MAK's id, as in URLs
	v1   int64
}

func newActivationPagesEnv(t *testing.T, limiter *limits.Limiter) *activationPagesEnv {
	t.Helper()
	env := &activationPagesEnv{keysPageEnv: newKeysPageEnv(t)}
	env.acts = app.NewActivations(env.store, env.az, app.ActivationsOptions{LeakNetworks: 2})
	env.mak = env.keyID(t, "WFP4D")
	var err error
	if env.v1, err = env.store.AgreementID(context.Background(), "V1"); err != nil {
		t.Fatal(err)
	}
	env.ui.limits = &limits.Set{Activation: limiter}
	env.ui.MountActivation(env.engine.Group("/", fakeSession), env.acts, env.keys, env.ui.LicenceGuard(env.az, env.store, func(context.Context, int64) (bool, error) { return true, nil }), ActivationAccess{
		CanRelease: func(user, licence int64) bool {
			return env.az.Can(user, licence, authz.ActManage) || env.az.IsOperator(user)
		},
		IsOperator: env.az.IsOperator,
	})
	return env
}

// machine is the identity of demo computer n.
func machine(n int) activation.Identity {
	return activation.NewIdentity(map[string]string{"board": fmt.Sprint("board-", n), "disk": fmt.Sprint("disk-", n), "mac": fmt.Sprint("mac-", n)})
}

// activate activates the MAK online for computer n from address ip.
func (env *activationPagesEnv) activate(t *testing.T, n int, ip string) {
	t.Helper()
	_, err := env.acts.Activate(context.Background(), app.ActivationInput{
		Request:  activation.Request{Key: pageKeyMAK, Product: "win-ent", Components: machine(n)},
		ClientIP: ip,
	})
	if err != nil {
		t.Fatalf("activate computer %d: %v", n, err)
	}
}

func (env *activationPagesEnv) installations(t *testing.T) []models.Installation {
	t.Helper()
	list, err := env.acts.Installations(context.Background(), env.users["reader"], env.v1, mustInt(t, env.mak))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestActivationPagesRefusals(t *testing.T) {
	env := newActivationPagesEnv(t, limits.New(time.Millisecond, 1000))
	env.activate(t, 1, "192.0.2.10")
	inst := strconv.FormatInt(env.installations(t)[0].ID, 10)
	unknown := env.get(t, "/licences/NOPE/keys/"+env.mak+"/installations", env.as("admin"))
	if unknown.Code != http.StatusNotFound {
		t.Fatalf("unknown licence: %d", unknown.Code)
	}
	iid := url.Values{"installation_id": {activation.InstallationID(machine(2))}}
	for _, who := range []string{"viewer", "downloader", "stranger", "operator"} {
		for _, lic := range []string{"V1", "V2"} {
			base := "/licences/" + lic + "/keys/" + env.mak
			for _, target := range []string{base + "/installations", base + "/telephone-activation"} {
				if rec := env.get(t, target, env.as(who)); rec.Code != http.StatusNotFound || rec.Body.String() != unknown.Body.String() {
					t.Errorf("%s GET %s: %d", who, target, rec.Code)
				}
			}
			for _, target := range []string{base + "/installations/" + inst + "/release", base + "/telephone-activation"} {
				if rec := env.post(t, target, iid, env.as(who)); rec.Code != http.StatusNotFound || rec.Body.String() != unknown.Body.String() {
					t.Errorf("%s POST %s: %d", who, target, rec.Code)
				}
			}
		}
	}
	// A key reader sees the installations but cannot release one.
	page := env.get(t, "/licences/V1/keys/"+env.mak+"/installations?release="+inst, env.as("reader"))
	if page.Code != http.StatusOK {
		t.Fatalf("reader's installations page: %d", page.Code)
	}
	mustContain(t, page.Body.String(), "192.0.2.0/24", "496 of 500 activations used", "administrators can release")
	mustNotContain(t, page.Body.String(), "/release", "confirm-heading")
	if rec := env.post(t, "/licences/V1/keys/"+env.mak+"/installations/"+inst+"/release", nil, env.as("reader")); rec.Code != http.StatusNotFound {
		t.Errorf("reader releases: %d", rec.Code)
	}
	if n := len(env.installations(t)); n != 1 {
		t.Errorf("after refusals: %d installations, want 1", n)
	}
	// The key of another licence, and a key that is not a MAK, are unknown here.
	kms := env.keyID(t, "92W3X")
	for _, target := range []string{"/licences/V2/keys/" + env.mak + "/installations", "/licences/V1/keys/" + kms + "/telephone-activation", "/licences/V1/keys/x/installations"} {
		if rec := env.get(t, target, env.as("admin")); rec.Code != http.StatusNotFound {
			t.Errorf("admin GET %s: %d", target, rec.Code)
		}
	}
	// Only operators use the operators' pages.
	for _, target := range []string{"/operator/leaked-keys", "/operator/keys/" + env.mak + "/telephone-activation?licence=V1"} {
		if rec := env.get(t, target, env.as("admin")); rec.Code != http.StatusForbidden {
			t.Errorf("admin GET %s: %d", target, rec.Code)
		}
	}
	if rec := env.post(t, "/operator/keys/"+env.mak+"/telephone-activation?licence=V1", iid, env.as("reader")); rec.Code != http.StatusForbidden {
		t.Errorf("reader POSTs the operators' telephone activation: %d", rec.Code)
	}
	if rec := env.get(t, "/licences/V1/keys/"+env.mak+"/installations"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/signin") {
		t.Errorf("signed out: %d", rec.Code)
	}
}

func TestActivationPagesRelease(t *testing.T) {
	env := newActivationPagesEnv(t, limits.New(time.Millisecond, 1000))
	env.activate(t, 1, "192.0.2.10")
	env.activate(t, 2, "2001:db8:1:2::5")
	base := "/licences/V1/keys/" + env.mak + "/installations"
	keys := env.get(t, "/licences/V1/keys", env.as("reader"))
	mustContain(t, keys.Body.String(), `href="`+base+`"`, "497 of 500 activations used")
	page := env.get(t, base, env.as("admin"))
	mustContain(t, page.Body.String(), "192.0.2.0/24", "2001:db8:1::/48", "497 of 500 activations used", `href="`+base+`?release=`)
	inst := env.installations(t)[1]
	id := strconv.FormatInt(inst.ID, 10)
	confirm := env.get(t, base+"?release="+id, env.as("admin"))
	mustContain(t, confirm.Body.String(), `id="confirm-heading"`, `action="`+base+"/"+id+`/release"`, "2001:db8:1::/48")
	rec := env.post(t, base+"/"+id+"/release", nil, env.as("admin"))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != base+"?released=1#installations-heading" {
		t.Fatalf("release: %d %v", rec.Code, rec.Header())
	}
	after := env.get(t, base+"?released=1", env.as("admin"))
	mustContain(t, after.Body.String(), "The installation was released", "496 of 500 activations used", "192.0.2.0/24")
	mustNotContain(t, after.Body.String(), "2001:db8:1::/48")
	// Released already: nothing to release.
	if again := env.post(t, base+"/"+id+"/release", nil, env.as("admin")); again.Code != http.StatusNotFound {
		t.Errorf("second release: %d", again.Code)
	}
	ja := env.get(t, base+"?released=1", env.as("admin"), "Accept-Language: ja")
	mustContain(t, ja.Body.String(), "インストールを解放しました", "500 回中 496 回使用済み")
}

// An operator helping a customer lists and releases installations from the
// operators' key page; an administrator cannot use the operators' route.
func TestActivationPagesOperatorRelease(t *testing.T) {
	env := newActivationPagesEnv(t, limits.New(time.Millisecond, 1000))
	env.activate(t, 1, "192.0.2.10")
	env.activate(t, 2, "198.51.100.7")
	base := "/operator/keys/" + env.mak + "/installations"
	mustContain(t, env.get(t, "/operator/keys?licence=V1", env.as("operator")).Body.String(), `href="`+base+`?licence=V1"`)
	for _, who := range []string{"admin", "reader"} {
		if rec := env.get(t, base+"?licence=V1", env.as(who)); rec.Code != http.StatusForbidden {
			t.Errorf("%s on the operators' installations page: %d", who, rec.Code)
		}
	}
	if rec := env.get(t, base+"?licence=V2", env.as("operator")); rec.Code != http.StatusNotFound {
		t.Errorf("operator, key of another licence: %d", rec.Code)
	}
	inst := env.installations(t)[0]
	id := strconv.FormatInt(inst.ID, 10)
	confirm := env.get(t, base+"?licence=V1&release="+id, env.as("operator"))
	mustContain(t, confirm.Body.String(), "497 of 500 activations used", "198.51.100.0/24",
		`action="`+base+"/"+id+`/release?licence=V1"`, `href="/operator/keys?licence=V1#key-`+env.mak+`"`)
	rec := env.post(t, base+"/"+id+"/release?licence=V1", nil, env.as("operator"))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != base+"?licence=V1&released=1#installations-heading" {
		t.Fatalf("operator's release: %d %v", rec.Code, rec.Header())
	}
	mustContain(t, env.get(t, base+"?licence=V1&released=1", env.as("operator")).Body.String(), "The installation was released", "496 of 500 activations used")
	if n := len(env.installations(t)); n != 1 {
		t.Errorf("%d installations after the operator's release, want 1", n)
	}
}

func TestTelephoneActivationPage(t *testing.T) {
	env := newActivationPagesEnv(t, limits.New(time.Millisecond, 1000))
	ctx := context.Background()
	page := "/licences/V1/keys/" + env.mak + "/telephone-activation"
	form := env.get(t, page, env.as("reader"))
	mustContain(t, form.Body.String(), `<label for="installation_id">`, `aria-live="polite"`, "495 of 500 activations used")

	for name, typed := range map[string]string{
		"malformed":   "12345-abcde-67890",
		"check group": badCheckGroup(activation.InstallationID(machine(3))),
		"empty":       "",
	} {
		rec := env.post(t, page, url.Values{"installation_id": {typed}}, env.as("reader"))
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", name, rec.Code)
		}
		mustContain(t, rec.Body.String(), "This installation ID is not right", `aria-invalid="true"`, ">"+typed+"</textarea>")
	}

	iid := activation.InstallationID(machine(3))
	typed := " " + strings.ReplaceAll(iid, "-", " ") + " "
	rec := env.post(t, page, url.Values{"installation_id": {typed}}, env.as("reader"))
	if rec.Code != http.StatusOK {
		t.Fatalf("telephone activation: %d\n%s", rec.Code, rec.Body)
	}
	groups := confirmationGroups(rec.Body.String())
	if len(groups) != 26 {
		t.Fatalf("confirmation ID in %d groups, want 26:\n%s", len(groups), rec.Body)
	}
	ks, err := env.acts.PublicKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.CheckConfirmation(strings.Join(groups, "-"), "win-ent", iid); err != nil {
		t.Errorf("the page's confirmation ID does not verify: %v", err)
	}
	if n := len(env.installations(t)); n != 1 {
		t.Errorf("%d installations after a telephone activation, want 1", n)
	}
	mustContain(t, env.get(t, "/licences/V1/keys/"+env.mak+"/installations", env.as("reader")).Body.String(), "496 of 500", "By telephone")

	// An operator helps on the phone from the operators' key page.
	opPage := "/operator/keys/" + env.mak + "/telephone-activation?licence=V1"
	mustContain(t, env.get(t, "/operator/keys?licence=V1", env.as("operator")).Body.String(), `href="/operator/keys/`+env.mak+`/telephone-activation?licence=V1"`)
	op := env.post(t, opPage, url.Values{"installation_id": {activation.InstallationID(machine(4))}}, env.as("operator"))
	if op.Code != http.StatusOK || len(confirmationGroups(op.Body.String())) != 26 {
		t.Fatalf("operator's telephone activation: %d\n%s", op.Code, op.Body)
	}
	if rec := env.post(t, "/operator/keys/"+env.mak+"/telephone-activation?licence=V2", url.Values{"installation_id": {iid}}, env.as("operator")); rec.Code != http.StatusNotFound {
		t.Errorf("operator, key of another licence: %d", rec.Code)
	}

	// The refusals, with their stable codes.
	limit := int64(497)
	if _, err := env.keys.SetActivationCounts(ctx, env.users["operator"], mustInt(t, env.mak), nil, &limit, time.Time{}); err != nil {
		t.Fatal(err)
	}
	full := env.post(t, page, url.Values{"installation_id": {activation.InstallationID(machine(5))}}, env.as("reader"))
	if full.Code != http.StatusUnprocessableEntity {
		t.Errorf("limit reached: %d", full.Code)
	}
	mustContain(t, full.Body.String(), "no activations left", "0xC004C020")
	if _, err := env.keys.SetKeyStatus(ctx, env.users["operator"], mustInt(t, env.mak), app.KeyStatusInput{Status: models.KeyBlocked, Reason: models.BlockLeaked}); err != nil {
		t.Fatal(err)
	}
	blocked := env.post(t, page, url.Values{"installation_id": {iid}}, env.as("reader"), "Accept-Language: ja")
	mustContain(t, blocked.Body.String(), "このキーはブロックされている", "0xC004C003")
}

// badCheckGroup changes the last digit of installation ID iid.
func badCheckGroup(iid string) string {
	last := iid[len(iid)-1]
	return iid[:len(iid)-1] + string('0'+(last-'0'+1)%10)
}

// confirmationGroups reads the digit groups of the confirmation ID off a page.
func confirmationGroups(body string) []string {
	_, list, ok := strings.Cut(body, `id="confirmation-id"`)
	if !ok {
		return nil
	}
	list, _, _ = strings.Cut(list, "</ol>")
	var groups []string
	for _, part := range strings.Split(list, "<code>")[1:] {
		g, _, _ := strings.Cut(part, "</code>")
		groups = append(groups, g)
	}
	return groups
}

func TestTelephoneActivationRateLimited(t *testing.T) {
	env := newActivationPagesEnv(t, limits.New(time.Hour, 1))
	page := "/licences/V1/keys/" + env.mak + "/telephone-activation"
	iid := url.Values{"installation_id": {activation.InstallationID(machine(1))}}
	if rec := env.post(t, page, iid, env.as("reader")); rec.Code != http.StatusOK {
		t.Fatalf("first: %d", rec.Code)
	}
	rec := env.post(t, page, iid, env.as("reader"))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("second: %d %v", rec.Code, rec.Header())
	}
	release := env.post(t, "/licences/V1/keys/"+env.mak+"/installations/1/release", nil, env.as("admin"))
	if release.Code != http.StatusTooManyRequests {
		t.Errorf("release over the limit: %d", release.Code)
	}
}

func TestLeakedKeysPage(t *testing.T) {
	env := newActivationPagesEnv(t, limits.New(time.Millisecond, 1000))
	empty := env.get(t, "/operator/leaked-keys", env.as("operator"))
	mustContain(t, empty.Body.String(), "No key is flagged as leaked.")
	for n, ip := range []string{"192.0.2.1", "198.51.100.1", "203.0.113.1"} {
		env.activate(t, n, ip)
	}
	rec := env.get(t, "/operator/leaked-keys", env.as("operator"))
	if rec.Code != http.StatusOK {
		t.Fatalf("leaked keys: %d", rec.Code)
	}
	mustContain(t, rec.Body.String(), "3 networks, 3 installations", "First seen 14 March 2026, 09:00 UTC, last seen 14 March 2026, 09:00 UTC", "WFP4D", "V1", "203.0.113.0/24",
		`href="/operator/keys?licence=V1#key-`+env.mak+`"`)
	if _, _, err := env.acts.LeakSpan(context.Background(), env.users["admin"], mustInt(t, env.mak)); !errors.Is(err, app.ErrOperatorsOnly) {
		t.Errorf("an administrator reads the evidence: %v", err)
	}
	ja := env.get(t, "/operator/leaked-keys", env.as("operator"), "Accept-Language: ja")
	mustContain(t, ja.Body.String(), "漏えいの疑いがあるキー", "3 個のネットワーク")
}
