package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

func TestRelationshipSummary(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(
		models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}},
		models.ImportAgreement{Program: "enterprise", Number: "E1", Organization: "C1", Parent: "M1", Starts: "2020-01-01", Ends: "2021-12-31"},
		models.ImportAgreement{Program: "select_plus", Number: "S1", Organization: "C1", Parent: "M1"},
		models.ImportAgreement{Program: "enterprise", Number: "E9", Organization: "C1", Parent: "M1"},
		models.ImportAgreement{Program: "open_value", Number: "V1", Organization: "C1", Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}},
	)
	doc := &models.ImportDocument{
		Products:     []models.ImportProduct{{ID: "win", Name: "Windows Enterprise", Versions: []models.ImportVersion{{Version: "11", Edition: "Enterprise"}}}},
		Entitlements: []models.ImportEntitlement{{Agreement: "E1", Product: "win", Version: "11"}},
	}
	if _, err := env.store.Import(context.Background(), doc, models.ImportOptions{Actor: models.Actor{Label: "test"}}); err != nil {
		t.Fatal(err)
	}
	boss := env.person("boss", "boss@contoso.example")
	staff := env.person("staff", "staff@contoso.example")
	env.grantDirect("staff@contoso.example", "E9", models.PermKeyReader)
	env.send(boss, http.MethodPut, "/api/v1/me/inheritance/M1", map[string]bool{"inherit": true})

	tree := func(c *http.Client) []app.TreeNode {
		resp, err := c.Get(env.srv.URL + "/api/v1/licences")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct{ Licences []app.TreeNode }
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return v.Licences
	}
	shape := func(nodes []app.TreeNode) string {
		var out []string
		for _, n := range nodes {
			s := n.Number
			if n.Parent != "" {
				s += "^" + n.Parent
			}
			if n.Expired {
				s += "!"
			}
			if len(n.Children) > 0 {
				var kids []string
				for _, k := range n.Children {
					kid := k.Number
					if k.Expired {
						kid += "!"
					}
					kids = append(kids, kid)
				}
				s += "(" + strings.Join(kids, ",") + ")"
			}
			out = append(out, s)
		}
		return strings.Join(out, " ")
	}
	if got := shape(tree(boss)); got != "M1(E1!,E9,S1) V1" {
		t.Errorf("inheriting administrator's tree: %s", got)
	}
	if got := shape(tree(staff)); got != "E9^M1" {
		t.Errorf("staff's tree: %s", got)
	}

	code, detail := env.send(boss, http.MethodGet, "/api/v1/licences/E1", nil)
	if code != http.StatusOK || detail["organization"] != "Contoso" || detail["parent_number"] != "M1" || !strings.Contains(strings.ToLower(toJSON(detail["entitlements"])), "windows enterprise") {
		t.Errorf("detail of E1: %d %v", code, detail)
	}
	c1, b1 := env.send(staff, http.MethodGet, "/api/v1/licences/E1", nil)
	c2, b2 := env.send(staff, http.MethodGet, "/api/v1/licences/NOPE", nil)
	if c1 != http.StatusNotFound || c2 != http.StatusNotFound || b1["detail"] != b2["detail"] {
		t.Errorf("not viewable vs unknown: %d %v / %d %v", c1, b1, c2, b2)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
