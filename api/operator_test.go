package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

func TestOperatorDesk(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(
		models.ImportAgreement{Program: "open_license", Number: "V3", Organization: "C1", AuthorizationNumber: "12345678"},
		models.ImportAgreement{Program: "enterprise", Number: "E1", Organization: "C1", Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}},
	)
	env.person("boss", "boss@contoso.example")
	staff := env.person("staff", "staff@contoso.example")
	op := env.person("op", "operator@contoso.example") // listed in Operators

	// A request for the licence without administrator fails for the
	// requester and waits in the operators' queue with its reason.
	env.send(staff, http.MethodPost, "/api/v1/access-requests", map[string]any{"program": "open_license", "license_number": "V3", "authorization_number": "12345678", "permissions": []string{"key_reader"}})
	if code, _ := env.send(staff, http.MethodGet, "/api/v1/operator/unadministered", nil); code != http.StatusForbidden {
		t.Errorf("a non-operator at the desk: %d", code)
	}
	_, list := env.send(op, http.MethodGet, "/api/v1/operator/unadministered", nil)
	got := fmt.Sprint(list["licences"])
	if !strings.Contains(got, "licence:V3") || !strings.Contains(got, "licence has no administrator") || !strings.Contains(got, "staff@contoso.example") || strings.Contains(got, "licence:E1") {
		t.Errorf("unadministered: %s", got)
	}

	// Appoint the first administrator; a second appointment is refused.
	if code, body := env.send(op, http.MethodPost, "/api/v1/operator/licences/V3/appoint", map[string]string{"email": "staff@contoso.example"}); code != http.StatusNoContent {
		t.Fatalf("appoint: %d %v", code, body)
	}
	if _, me := env.me(staff); licences(me)["V3"] != "administrator" {
		t.Errorf("appointed administrator: %v", licences(me))
	}
	if code, _ := env.send(op, http.MethodPost, "/api/v1/operator/licences/V3/appoint", map[string]string{"email": "someone@contoso.example"}); code != http.StatusConflict {
		t.Errorf("appointing a second administrator: %d", code)
	}
	if code, _ := env.send(op, http.MethodPost, "/api/v1/operator/licences/E1/appoint", map[string]string{"email": "x@contoso.example"}); code != http.StatusConflict {
		t.Errorf("appointing on a licence with an administrator: %d", code)
	}

	// Search.
	_, found := env.send(op, http.MethodGet, "/api/v1/operator/search?q=v3", nil)
	if !strings.Contains(fmt.Sprint(found["licences"]), "number:V3") {
		t.Errorf("search for V3: %v", found)
	}
	_, found = env.send(op, http.MethodGet, "/api/v1/operator/search?q=staff@", nil)
	if !strings.Contains(fmt.Sprint(found["users"]), "staff@contoso.example") {
		t.Errorf("search for staff: %v", found)
	}

	// Import from the desk: a report first, then the change.
	doc := `{"organizations":[{"number":"C9","name":"Northwind"}],"agreements":[{"program":"open_value","number":"V9","organization":"C9"}]}`
	post := func(path, body string) (int, string) {
		resp, err := op.Post(env.srv.URL+path, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, body := post("/api/v1/operator/import?dry_run=true", doc); code != http.StatusOK || !strings.Contains(body, `"dry_run":true`) {
		t.Errorf("dry run: %d %s", code, body)
	}
	if n := modelstest.Count(t, env.store, models.Agreement{Number: "V9"}); n != 0 {
		t.Error("the dry run changed the database")
	}
	if code, body := post("/api/v1/operator/import", `{"agreements":[{"program":"open_value","number":"V8","organization":"C404"}]}`); code != http.StatusUnprocessableEntity || !strings.Contains(body, "agreements[0].organization") {
		t.Errorf("bad import: %d %s", code, body)
	}
	if code, _ := post("/api/v1/operator/import", doc); code != http.StatusOK {
		t.Errorf("import: %d", code)
	}
	if n := modelstest.Count(t, env.store, models.Agreement{Number: "V9"}); n != 1 {
		t.Error("the import did not apply")
	}
	if code, _ := post("/api/v1/operator/import", doc); code != http.StatusOK {
		t.Errorf("re-import: %d", code)
	}
}
