package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
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

// TestRelationshipSummaryPages: the summary collapsed (top licences with
// their counts), and one MBSA's licences page by page with a cursor: every
// licence once, in order, even when licences are added between two pages
// (those after the cursor show up, none repeats); a revoked grant leaves
// the summary and its pages at once; bad page parameters are refused.
func TestRelationshipSummaryPages(t *testing.T) {
	env := newAuthEnv(t)
	boss := []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}
	agreements := []models.ImportAgreement{
		{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: boss},
		{Program: "open_value", Number: "V1", Organization: "C1", Contacts: boss},
	}
	for i := 0; i < 250; i += 2 {
		agreements = append(agreements, models.ImportAgreement{Program: "enterprise", Number: fmt.Sprintf("E%03d", i), Organization: "C1", Parent: "M1"})
	}
	env.importContacts(agreements...)
	bossC := env.person("boss", "boss@contoso.example")
	staff := env.person("staff", "staff@contoso.example")
	env.grantDirect("staff@contoso.example", "E002", models.PermKeyReader)
	env.send(bossC, http.MethodPut, "/api/v1/me/inheritance/M1", map[string]bool{"inherit": true})

	type page struct {
		Licences []app.TreeNode
		Next     string
	}
	get := func(c *http.Client, query string) (int, page) {
		resp, err := c.Get(env.srv.URL + "/api/v1/licences" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p page
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p
	}
	if code, p := get(bossC, "?collapsed=true"); code != http.StatusOK || len(p.Licences) != 2 || p.Licences[0].Number != "M1" ||
		p.Licences[0].ChildCount != 125 || len(p.Licences[0].Children) != 0 || p.Licences[1].ChildCount != 0 {
		t.Fatalf("collapsed: %d %+v", code, p.Licences)
	}
	if _, p := get(bossC, "?limit=3"); len(p.Licences) != 2 || len(p.Licences[0].Children) != 3 || p.Licences[0].ChildCount != 125 {
		t.Errorf("summary with 3 licences under each: %+v", p.Licences)
	}
	// Without parameters, the first page: each MBSA with its first
	// app.TreePreview licences and the cursor of the next; all=true, the
	// whole tree.
	if _, p := get(bossC, ""); len(p.Licences) != 2 || len(p.Licences[0].Children) != app.TreePreview ||
		p.Licences[0].ChildCount != 125 || p.Licences[0].Next != fmt.Sprintf("E%03d", 2*(app.TreePreview-1)) || p.Licences[1].Next != "" {
		t.Errorf("first page: %+v", p.Licences)
	}
	if _, p := get(bossC, "?all=true"); len(p.Licences) != 2 || len(p.Licences[0].Children) != 125 ||
		p.Licences[0].ChildCount != 0 || p.Licences[0].Next != "" || p.Licences[0].Children[124].Number != "E248" {
		t.Errorf("whole tree: %+v", p.Licences)
	}

	var seen []string
	after := ""
	for round := 0; ; round++ {
		code, p := get(bossC, "?under=M1&limit=50&after="+after)
		if code != http.StatusOK || len(p.Licences) > 50 {
			t.Fatalf("page after %q: %d, %d licences", after, code, len(p.Licences))
		}
		for _, n := range p.Licences {
			seen = append(seen, n.Number)
		}
		if round == 0 { // one before the cursor, two after it
			env.importContacts(
				models.ImportAgreement{Program: "enterprise", Number: "E001", Organization: "C1", Parent: "M1"},
				models.ImportAgreement{Program: "enterprise", Number: "E101", Organization: "C1", Parent: "M1"},
				models.ImportAgreement{Program: "enterprise", Number: "E249", Organization: "C1", Parent: "M1"})
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	want := []string{}
	for i := 0; i < 250; i += 2 {
		want = append(want, fmt.Sprintf("E%03d", i))
	}
	want = append(want, "E101", "E249")
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Errorf("pages gave %d licences, want %d: %v", len(seen), len(want), seen)
	}
	if _, p := get(bossC, "?under=NOPE"); len(p.Licences) != 0 || p.Next != "" {
		t.Errorf("unknown MBSA: %+v", p)
	}

	if _, p := get(staff, "?under=M1"); len(p.Licences) != 0 {
		t.Errorf("staff paging an MBSA they cannot see: %+v", p.Licences)
	}
	if _, p := get(staff, "?collapsed=true"); len(p.Licences) != 1 || p.Licences[0].Number != "E002" || p.Licences[0].Parent != "M1" {
		t.Fatalf("staff before the revoke: %+v", p.Licences)
	}
	if code, _ := env.send(bossC, http.MethodDelete, fmt.Sprintf("/api/v1/licences/E002/users/%d", env.userID("staff@contoso.example")), nil); code != http.StatusNoContent {
		t.Fatalf("revoke: %d", code)
	}
	for _, q := range []string{"", "?collapsed=true"} {
		if _, p := get(staff, q); len(p.Licences) != 0 {
			t.Errorf("staff after the revoke (%q): %+v", q, p.Licences)
		}
	}

	for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x", "?after=E002"} {
		if code, _ := get(bossC, q); code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", q, code)
		}
	}
	resp, err := bossC.Get(env.srv.URL + "/api/v1/licences?after=E002")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"code":"err.licences.cursor"`) {
		t.Errorf("a cursor without its licence: %s", body)
	}

	// Choosing not to inherit takes M1's licences off the summary at once.
	env.send(bossC, http.MethodPut, "/api/v1/me/inheritance/M1", map[string]bool{"inherit": false})
	for _, q := range []string{"", "?under=M1", "?all=true"} {
		if _, p := get(bossC, q); len(p.Licences) > 2 || (len(p.Licences) > 0 && len(p.Licences[0].Children) != 0) {
			t.Errorf("after inheritance is off (%q): %+v", q, p.Licences)
		}
	}
}
