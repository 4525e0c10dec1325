package api_test

import (
	"net/http"
	"testing"

	"github.com/openlsc/openlsc/models"
)

// TestAccessRequestLockoutPerAddress: failures are counted per client
// address too, so a fresh account from the same address gets no fresh
// allowance (issue 9 §1).
func TestAccessRequestLockoutPerAddress(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(models.ImportAgreement{Program: "enterprise", Number: "E1", Organization: "C1", Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}})
	first := env.person("first", "first@fabrikam.example")
	fresh := env.person("fresh", "fresh@fabrikam.example")
	bad := map[string]any{"program": "enterprise", "license_number": "NOPE", "permissions": []string{"license_viewer"}}
	for i := range 5 {
		if code, body := env.raw(first, "/api/v1/access-requests", bad); code != http.StatusUnprocessableEntity {
			t.Fatalf("failure %d: %d %s", i+1, code, body)
		}
	}
	good := map[string]any{"program": "enterprise", "license_number": "E1", "permissions": []string{"license_viewer"}}
	if code, body := env.raw(fresh, "/api/v1/access-requests", good); code != http.StatusTooManyRequests {
		t.Errorf("a fresh account from the same address: %d %s", code, body)
	}
}
