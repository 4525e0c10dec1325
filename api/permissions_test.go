package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/openlsc/openlsc/models"
)

func (env *authEnv) grantDirect(email, licence string, perm models.Permission) {
	env.t.Helper()
	id, err := env.store.AgreementID(context.Background(), licence)
	if err != nil {
		env.t.Fatal(err)
	}
	err = env.store.InTx(context.Background(), func(tx *models.Tx) error {
		return env.az.Grant(tx, models.Actor{Label: "test"}, env.userID(email), &id, perm, models.SourceDirect)
	})
	if err != nil {
		env.t.Fatal(err)
	}
}

func perms(v map[string]any) string {
	var out []string
	for _, p := range v["permissions"].([]any) {
		m := p.(map[string]any)
		s := fmt.Sprintf("%s:%s:%s", m["licence"], m["permission"], m["source"])
		if via, _ := m["via_mbsa"].(string); via != "" {
			s += "<" + via
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestMyPermissionsAndInheritance(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(
		models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}},
		models.ImportAgreement{Program: "enterprise", Number: "E1", Organization: "C1", Parent: "M1"},
		models.ImportAgreement{Program: "open_value", Number: "V1", Organization: "C1"},
	)
	boss := env.person("boss", "boss@contoso.example")
	staff := env.person("staff", "staff@contoso.example")

	// The inheritance question: asked once per MBSA, changeable later.
	_, inh := env.send(boss, http.MethodGet, "/api/v1/me/inheritance", nil)
	if fmt.Sprint(inh["mbsas"]) != "[map[inherit:<nil> mbsa:M1]]" {
		t.Errorf("before choosing: %v", inh["mbsas"])
	}
	if _, p := env.send(boss, http.MethodGet, "/api/v1/me/permissions", nil); perms(p) != "M1:administrator:contact" {
		t.Errorf("before inheriting: %s", perms(p))
	}
	if code, _ := env.send(boss, http.MethodPut, "/api/v1/me/inheritance/M1", map[string]bool{"inherit": true}); code != http.StatusNoContent {
		t.Fatalf("inherit: %d", code)
	}
	if _, p := env.send(boss, http.MethodGet, "/api/v1/me/permissions", nil); perms(p) != "E1:administrator:inherited<M1 M1:administrator:contact" {
		t.Errorf("inheriting: %s", perms(p))
	}
	// Issue 9 §5: a licence the caller does not administer is answered
	// like an unknown one (was 403, which told that M1 exists).
	if code, _ := env.send(staff, http.MethodPut, "/api/v1/me/inheritance/M1", map[string]bool{"inherit": true}); code != http.StatusNotFound {
		t.Errorf("a non-administrator choosing inheritance: %d", code)
	}
	if code, _ := env.send(boss, http.MethodPut, "/api/v1/me/inheritance/M1", map[string]any{}); code != http.StatusUnprocessableEntity {
		t.Errorf("no choice given: %d", code)
	}

	// Contact-derived and inherited permissions cannot be dropped.
	if code, _ := env.send(boss, http.MethodDelete, "/api/v1/me/permissions/M1/administrator", nil); code != http.StatusForbidden {
		t.Errorf("dropping a contact permission: %d", code)
	}
	if code, _ := env.send(boss, http.MethodDelete, "/api/v1/me/permissions/E1/administrator", nil); code != http.StatusForbidden {
		t.Errorf("dropping an inherited permission: %d", code)
	}

	// Own direct permissions can, except the last administrator.
	env.grantDirect("staff@contoso.example", "E1", models.PermKeyReader)
	env.grantDirect("staff@contoso.example", "V1", models.PermAdministrator)
	if code, _ := env.send(staff, http.MethodDelete, "/api/v1/me/permissions/E1/key_reader", nil); code != http.StatusNoContent {
		t.Errorf("dropping a direct permission: %d", code)
	}
	if code, _ := env.send(staff, http.MethodDelete, "/api/v1/me/permissions/E1/key_reader", nil); code != http.StatusNotFound {
		t.Errorf("dropping it again: %d", code)
	}
	if code, body := env.send(staff, http.MethodDelete, "/api/v1/me/permissions/V1/administrator", nil); code != http.StatusConflict {
		t.Errorf("the last administrator leaving: %d %v", code, body)
	}
	if _, p := env.send(staff, http.MethodGet, "/api/v1/me/permissions", nil); perms(p) != "V1:administrator:direct" {
		t.Errorf("staff permissions: %s", perms(p))
	}
}

func TestInheritanceAskedAtSignIn(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}})
	boss := env.person("boss", "boss@contoso.example")
	resp, _ := env.signIn(boss, &mockoidc.MockUser{Subject: "boss", Email: "boss@idp.example"})
	if loc := resp.Header.Get("Location"); loc != "/inheritance?return_to=%2Fapi%2Fv1%2Fme" {
		t.Errorf("sign-in of an MBSA administrator who has not chosen goes to %q", loc)
	}
	env.send(boss, http.MethodPut, "/api/v1/me/inheritance/M1", map[string]bool{"inherit": false})
	resp, _ = env.signIn(boss, &mockoidc.MockUser{Subject: "boss", Email: "boss@idp.example"})
	if loc := resp.Header.Get("Location"); loc != "/api/v1/me" {
		t.Errorf("after choosing, sign-in goes to %q", loc)
	}
}
