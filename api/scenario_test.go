package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/models"
)

// withToken calls the API with a personal access token and no cookies.
func (env *authEnv) withToken(token, method, path string, body any) (int, map[string]any) {
	env.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, env.srv.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		env.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func (env *authEnv) token(c *http.Client) string {
	env.t.Helper()
	_, t := env.send(c, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "scenario"})
	return t["token"].(string)
}

// TestScenarioWithTokens runs the VLSC FAQ scenario (questions 3–7, 9)
// through the API with personal access tokens only, after each person
// signed in once to confirm their work email and make a token.
func TestScenarioWithTokens(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(
		models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}},
		models.ImportAgreement{Program: "enterprise", Number: "E1", Organization: "C1", Parent: "M1"},
		models.ImportAgreement{Program: "open_license", Number: "OL7", Organization: "C1", AuthorizationNumber: "55555555"},
	)
	boss := env.token(env.person("boss", "boss@contoso.example"))
	staff := env.token(env.person("staff", "staff@contoso.example"))
	partner := env.token(env.person("partner", "partner@northwind.example"))
	op := env.token(env.person("op", "operator@contoso.example"))

	// Q5: the MBSA administrator is asked about inheritance and inherits.
	_, inh := env.withToken(boss, http.MethodGet, "/api/v1/me/inheritance", nil)
	if !strings.Contains(fmt.Sprint(inh), "inherit:<nil>") {
		t.Errorf("inheritance question: %v", inh)
	}
	env.withToken(boss, http.MethodPut, "/api/v1/me/inheritance/M1", map[string]bool{"inherit": true})
	// Q3/Q4/Q9: staff sees nothing, requests access without knowing who
	// administers E1; the (inheriting) administrator approves.
	if _, me := env.withToken(staff, http.MethodGet, "/api/v1/me", nil); len(licences(me)) != 0 {
		t.Fatalf("staff sees %v", licences(me))
	}
	code, req := env.withToken(staff, http.MethodPost, "/api/v1/access-requests", map[string]any{"program": "enterprise", "license_number": "E1", "permissions": []string{"license_viewer", "key_reader"}})
	if code != http.StatusCreated {
		t.Fatalf("request: %d %v", code, req)
	}
	_, pending := env.withToken(boss, http.MethodGet, "/api/v1/access-requests/pending", nil)
	if len(pending["requests"].([]any)) != 1 {
		t.Fatalf("pending: %v", pending)
	}
	if code, _ := env.withToken(boss, http.MethodPost, fmt.Sprintf("/api/v1/access-requests/%v/approve", req["id"]), map[string]any{"permissions": []string{"license_viewer"}}); code != http.StatusNoContent {
		t.Fatalf("approve: %d", code)
	}
	if _, me := env.withToken(staff, http.MethodGet, "/api/v1/me", nil); licences(me)["E1"] != "license_viewer" {
		t.Errorf("staff after approval: %v", licences(me))
	}
	// Q6: an Open License without administrator: the request fails with
	// the one notice; an operator appoints the requester.
	if code, _ := env.withToken(partner, http.MethodPost, "/api/v1/access-requests", map[string]any{"program": "open_license", "license_number": "OL7", "authorization_number": "55555555", "permissions": []string{"administrator"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("Open License without administrator: %d", code)
	}
	if code, _ := env.withToken(op, http.MethodPost, "/api/v1/operator/licences/OL7/appoint", map[string]string{"email": "partner@northwind.example"}); code != http.StatusNoContent {
		t.Errorf("appoint: %d", code)
	}
	// Q7: the customer administrator adds the partner to E1 as well.
	if code, _ := env.withToken(boss, http.MethodPost, "/api/v1/licences/E1/users", map[string]any{"email": "partner@northwind.example", "first_name": "Sam", "last_name": "Carter", "permissions": []string{"administrator"}}); code != http.StatusNoContent {
		t.Errorf("add partner: %d", code)
	}
	if _, me := env.withToken(partner, http.MethodGet, "/api/v1/me", nil); licences(me)["OL7"] != "administrator" || licences(me)["E1"] != "administrator" {
		t.Errorf("partner: %v", licences(me))
	}
}

var pathParam = regexp.MustCompile(`\{(\w+)\}`)

// TestEveryLicenceRouteRefusesOutsiders calls every documented route that
// names a licence as a user with no permission on it: each answers like
// an unknown licence, or refuses without telling anything.
func TestEveryLicenceRouteRefusesOutsiders(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(models.ImportAgreement{Program: "enterprise", Number: "E1", Organization: "C1", Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}})
	env.person("boss", "boss@contoso.example")
	stranger := env.token(env.person("stranger", "stranger@fabrikam.example"))
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, ops := range doc.Paths {
		// Operator routes refuse non-operators outright (TestOperatorDesk).
		if !strings.Contains(path, "{licence}") || strings.Contains(path, "/operator/") {
			continue
		}
		for method := range ops {
			call := func(licence string) (int, string) {
				p := pathParam.ReplaceAllStringFunc(path, func(m string) string {
					switch m {
					case "{licence}":
						return licence
					case "{permission}":
						return "key_reader"
					}
					return "1"
				})
				code, body := env.withToken(stranger, strings.ToUpper(method), p, map[string]any{"email": "x@y.example", "permissions": []string{"administrator"}})
				detail, _ := body["detail"].(string)
				return code, detail
			}
			c1, d1 := call("E1")
			c2, d2 := call("NOPE")
			if c1 != http.StatusNotFound || c1 != c2 || d1 != d2 {
				t.Errorf("%s %s: E1 answered %d %q, an unknown licence %d %q", strings.ToUpper(method), path, c1, d1, c2, d2)
			}
			n++
		}
	}
	if n < 6 {
		t.Errorf("only %d licence routes tried", n)
	}
	t.Logf("%d licence-scoped operations refuse outsiders", n)
}
