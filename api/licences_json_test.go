package api

import (
	"encoding/json"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// TestTreeJSONMatchesEncodingJSON: the hand-written encoding of the
// relationship summary is byte for byte what encoding/json writes,
// awkward strings included, and with a page's cursor and counts.
func TestTreeJSONMatchesEncodingJSON(t *testing.T) {
	odd := "a\"b\\c<d>&e\x01\n\t\r\u2028\u2029 日本語 \xff end"
	tree := []app.TreeNode{
		{LicenceView: app.LicenceView{Number: "M1", Program: models.ProgramMBSA, Name: odd, Starts: "2026-01-01", Ends: "2027-01-01",
			Permissions: []models.Permission{models.PermAdministrator, models.PermKeyReader}, Inherited: true},
			Children: []app.TreeNode{{LicenceView: app.LicenceView{Number: "E1", Program: "enterprise", Permissions: []models.Permission{}}, Expired: true}}},
		{LicenceView: app.LicenceView{Number: "E2", Program: "enterprise"}, Parent: "M2", ChildCount: 4711, Next: odd},
	}
	for _, tc := range []app.TreePage{{Licences: []app.TreeNode{}}, {Licences: tree}, {Licences: tree[:1], Next: odd}} {
		body := gin.H{"licences": tc.Licences}
		if tc.Next != "" {
			body["next"] = tc.Next
		}
		want, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		got := appendTreeJSON(nil, tc)
		if string(got) != string(want) {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	}
}
