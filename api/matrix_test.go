package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/models"
)

// exact calls the API with a personal access token and a fixed request id,
// and returns the status and the exact response bytes.
func (env *authEnv) exact(token, method, path string, body any) (int, []byte) {
	env.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, env.srv.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", "matrix-request")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		env.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// routeNeeds says what each licence-scoped route of the OpenAPI document
// needs on the licence: an action (which permissions allow it is below),
// or "own" for the routes on the caller's own permission. A route missing
// here fails the matrix test until it is added.
var routeNeeds = map[string]string{
	"GET /api/v1/licences/{licence}":                                  "view",
	"GET /api/v1/licences/{licence}/verification-form":                "view",
	"GET /api/v1/licences/{licence}/keys":                             "read_keys",
	"GET /api/v1/licences/{licence}/keys.csv":                         "read_keys",
	"POST /api/v1/licences/{licence}/keys/{key}/reveal":               "read_keys",
	"POST /api/v1/licences/{licence}/activation-requests":             "read_keys",
	"GET /api/v1/licences/{licence}/keys/{key}/installations":         "read_keys",
	"POST /api/v1/licences/{licence}/keys/{key}/offline-activations":  "read_keys",
	"DELETE /api/v1/licences/{licence}/keys/{key}/installations/{id}": "manage",
	"GET /api/v1/licences/{licence}/summary":                          "view",
	"GET /api/v1/licences/{licence}/summary.csv":                      "view",
	"GET /api/v1/licences/{licence}/summary.xlsx":                     "view",
	"GET /api/v1/licences/{licence}/users":                            "manage",
	"POST /api/v1/licences/{licence}/users":                           "manage",
	"PUT /api/v1/licences/{licence}/users/{user}":                     "manage",
	"DELETE /api/v1/licences/{licence}/users/{user}":                  "manage",
	"POST /api/v1/licences/{licence}/invitations/{id}/resend":         "manage",
	"DELETE /api/v1/me/permissions/{licence}/{permission}":            "own",
}

// allows lists what each per-licence permission (and none) allows, as the
// specification says.
var allows = map[string][]string{
	"":                 nil,
	"administrator":    {"view", "download", "read_keys", "manage"},
	"license_viewer":   {"view"},
	"download_manager": {"download"},
	"key_reader":       {"read_keys"},
}

// TestLicenceRouteMatrix calls every licence-scoped route of the OpenAPI
// document as a holder of each per-licence permission (and of none): a
// route is allowed exactly when the permission allows what the route
// needs, and every refusal equals, byte for byte, the answer for a
// licence that does not exist.
func TestLicenceRouteMatrix(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(models.ImportAgreement{Program: "enterprise", Number: "E1", Organization: "C1", Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}})
	// Five people (the limit of confirmation mails per address): the
	// contact administrator and one person per other permission set. The
	// routes on another person's access name the key reader, and the
	// administrator goes last, as those routes change that access.
	holders := []string{"", "license_viewer", "download_manager", "key_reader", "administrator"}
	tokens := map[string]string{"administrator": env.token(env.person("boss", "boss@contoso.example"))}
	for i, holds := range holders[:4] {
		email := "p" + strconv.Itoa(i) + "@fabrikam.example"
		tokens[holds] = env.token(env.person("p"+strconv.Itoa(i), email))
		if holds != "" {
			env.grantDirect(email, "E1", models.Permission(holds))
		}
	}
	other := strconv.FormatInt(env.userID("p3@fabrikam.example"), 10)

	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	var routes []string
	for path, ops := range doc.Paths {
		if !strings.Contains(path, "{licence}") || strings.Contains(path, "/operator/") {
			continue // operator routes refuse non-operators outright (TestOperatorDesk)
		}
		for method := range ops {
			route := strings.ToUpper(method) + " " + path
			if _, ok := routeNeeds[route]; !ok {
				t.Errorf("%s: not in the matrix; add what it needs to routeNeeds", route)
				continue
			}
			routes = append(routes, route)
		}
	}
	// Dropping one's own permission goes last: it changes what the
	// caller holds.
	slices.SortFunc(routes, func(a, b string) int {
		if (routeNeeds[a] == "own") != (routeNeeds[b] == "own") {
			if routeNeeds[a] == "own" {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	if len(routes) < 10 {
		t.Fatalf("only %d licence routes found", len(routes))
	}

	for _, holds := range holders {
		token := tokens[holds]
		for _, route := range routes {
			method, path, _ := strings.Cut(route, " ")
			perm := holds
			if perm == "" {
				perm = "key_reader"
			}
			call := func(licence string) (int, []byte) {
				p := pathParam.ReplaceAllStringFunc(path, func(m string) string {
					switch m {
					case "{licence}":
						return licence
					case "{permission}":
						return perm
					case "{user}":
						return other
					}
					return "1"
				})
				return env.exact(token, method, p, map[string]any{"email": "x@y.example", "permissions": []string{"key_reader"}})
			}
			unknownCode, unknown := call("NOPE")
			code, body := call("E1")
			refused := code == unknownCode && bytes.Equal(body, unknown)
			need := routeNeeds[route]
			want := slices.Contains(allows[holds], need) || (need == "own" && holds != "")
			if refused == want {
				t.Errorf("%q × %s: allowed %v, want %v (answered %d %s)", holds, route, !refused, want, code, body)
			}
		}
	}
	t.Logf("%d licence-scoped operations × 5 permission sets", len(routes))
}

// TestInheritanceAnswersLikeUnknown: choosing inheritance on any licence
// the caller does not administer as an MBSA (a licence of another
// program, an MBSA they only view, one they have nothing on) answers
// byte for byte like a licence that does not exist.
func TestInheritanceAnswersLikeUnknown(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(
		models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}},
		models.ImportAgreement{Program: "mbsa", Number: "M2", Organization: "C1", Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}},
		models.ImportAgreement{Program: "enterprise", Number: "E1", Organization: "C1", Parent: "M1"},
	)
	env.person("boss", "boss@contoso.example")
	staff := env.token(env.person("staff", "staff@contoso.example"))
	env.grantDirect("staff@contoso.example", "E1", models.PermAdministrator)
	env.grantDirect("staff@contoso.example", "M2", models.PermLicenseViewer)
	env.grantDirect("staff@contoso.example", "M1", models.PermAdministrator)

	choose := func(licence string) (int, []byte) {
		return env.exact(staff, http.MethodPut, "/api/v1/me/inheritance/"+licence, map[string]bool{"inherit": true})
	}
	unknownCode, unknown := choose("NOPE")
	if unknownCode != http.StatusNotFound {
		t.Fatalf("unknown licence: %d %s", unknownCode, unknown)
	}
	for _, licence := range []string{"E1", "M2"} {
		if code, body := choose(licence); code != unknownCode || !bytes.Equal(body, unknown) {
			t.Errorf("%s: %d %s, want the unknown-licence answer %d %s", licence, code, body, unknownCode, unknown)
		}
	}
	if code, body := choose("M1"); code != http.StatusNoContent {
		t.Errorf("the MBSA staff administers: %d %s", code, body)
	}
}
