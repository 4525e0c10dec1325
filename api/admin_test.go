package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/models"
)

func TestLicenceAdministration(t *testing.T) {
	env := newAuthEnv(t)
	boss := "boss@contoso.example"
	env.importContacts(
		models.ImportAgreement{Program: "enterprise", Number: "E1", Organization: "C1", Contacts: []models.ImportContact{{Email: boss, Role: "primary"}}},
		models.ImportAgreement{Program: "enterprise", Number: "E2", Organization: "C1", Contacts: []models.ImportContact{{Email: boss, Role: "online_admin"}}},
		models.ImportAgreement{Program: "open_value", Number: "V9", Organization: "C1"},
	)
	admin := env.person("boss", boss)
	staff := env.person("staff", "staff@contoso.example")

	// A partner not yet signed up is invited, on E1 and (copied) on E2.
	add := map[string]any{"email": "partner@northwind.example", "first_name": "Sam", "last_name": "Carter",
		"permissions": []string{"administrator"}, "also_licences": []string{"E2"}}
	if code, body := env.send(admin, http.MethodPost, "/api/v1/licences/E1/users", add); code != http.StatusNoContent {
		t.Fatalf("invite: %d %v", code, body)
	}
	if code, _ := env.send(admin, http.MethodPost, "/api/v1/licences/E1/users", map[string]any{"email": "x@contoso.example", "permissions": []string{"key_reader"}, "also_licences": []string{"V9"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("copying to a licence one does not administer: %d", code)
	}
	_, list := env.send(admin, http.MethodGet, "/api/v1/licences/E1/users", nil)
	users := fmt.Sprint(list["users"])
	if !strings.Contains(users, "partner@northwind.example") || !strings.Contains(users, "external:true") || !strings.Contains(users, "invitation_id") {
		t.Errorf("users of E1: %s", users)
	}
	_, inv := env.send(admin, http.MethodGet, "/api/v1/licences/E1/users?source=invited", nil)
	_, contacts := env.send(admin, http.MethodGet, "/api/v1/licences/E1/users?source=contact&permission=administrator", nil)
	if fmt.Sprint(inv["users"]) == fmt.Sprint(contacts["users"]) || !strings.Contains(fmt.Sprint(inv["users"]), "partner@") || strings.Contains(fmt.Sprint(contacts["users"]), "partner@") {
		t.Errorf("filters: invited %v, contacts %v", inv["users"], contacts["users"])
	}
	if code, _ := env.send(admin, http.MethodGet, "/api/v1/licences/E1/users?source=friends", nil); code != http.StatusUnprocessableEntity {
		t.Errorf("bad filter: %d", code)
	}
	if m := env.mailTo("partner@northwind.example"); len(m) != 2 || !strings.Contains(m[0], "E1") || strings.Contains(m[0], boss) {
		t.Errorf("invitation mails: %q", m)
	}
	partner := env.person("partner", "partner@northwind.example")
	_, me := env.me(partner)
	if got := licences(me); got["E1"] != "administrator" || got["E2"] != "administrator" {
		t.Errorf("the partner after confirming the invited email: %v", got)
	}

	// Someone already confirmed gets the permissions at once.
	if code, _ := env.send(admin, http.MethodPost, "/api/v1/licences/E1/users", map[string]any{"email": "staff@contoso.example", "permissions": []string{"license_viewer"}}); code != http.StatusNoContent {
		t.Fatal(code)
	}
	staffID := env.userID("staff@contoso.example")
	if _, me := env.me(staff); licences(me)["E1"] != "license_viewer" {
		t.Errorf("staff after being added: %v", licences(me))
	}
	if code, _ := env.send(admin, http.MethodPut, fmt.Sprintf("/api/v1/licences/E1/users/%d", staffID), map[string]any{"permissions": []string{"download_manager"}}); code != http.StatusNoContent {
		t.Errorf("edit: %d", code)
	}
	if _, me := env.me(staff); licences(me)["E1"] != "download_manager" {
		t.Errorf("staff after the edit: %v", licences(me))
	}
	if code, _ := env.send(admin, http.MethodDelete, fmt.Sprintf("/api/v1/licences/E1/users/%d", staffID), nil); code != http.StatusNoContent {
		t.Errorf("remove: %d", code)
	}
	if _, me := env.me(staff); len(licences(me)) != 0 {
		t.Errorf("staff after removal: %v", licences(me))
	}
	if code, _ := env.send(partner, http.MethodDelete, fmt.Sprintf("/api/v1/licences/E1/users/%d", env.userID(boss)), nil); code != http.StatusForbidden {
		t.Errorf("removing a contact-derived administrator: %d", code)
	}

	// Not an administrator: every licence route says the licence is not
	// there, exactly as for one that does not exist.
	_, denied := env.raw(staff, "/api/v1/licences/E1/users", map[string]any{"email": "y@contoso.example", "permissions": []string{"key_reader"}})
	_, missing := env.raw(staff, "/api/v1/licences/NOPE/users", map[string]any{"email": "y@contoso.example", "permissions": []string{"key_reader"}})
	strip := func(b []byte) string { return strings.Split(string(b), `"request_id"`)[0] }
	if !strings.Contains(string(denied), `"status":404`) || strip(denied) != strip(missing) {
		t.Errorf("non-administrator vs unknown licence:\n%s\n%s", denied, missing)
	}
	for _, path := range []string{"/api/v1/licences/E1/users", "/api/v1/licences/V9/users"} {
		if code, _ := env.send(staff, http.MethodGet, path, nil); code != http.StatusNotFound {
			t.Errorf("staff GET %s: %d", path, code)
		}
	}
}
