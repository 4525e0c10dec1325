package frontend

import (
	"fmt"
	"testing"
	"time"

	"github.com/openlsc/openlsc/app"
)

// TestPageTree: the relationship summary page shows each MBSA with the
// licences the application's page gives and a link to all of them; one
// MBSA's page starts with the MBSA and carries the cursor on.
func TestPageTree(t *testing.T) {
	var kids []app.TreeNode
	for i := range treePreview {
		kids = append(kids, app.TreeNode{LicenceView: app.LicenceView{Number: fmt.Sprintf("E%04d", i)}})
	}
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	p := pageTree(app.TreePage{Licences: []app.TreeNode{
		{LicenceView: app.LicenceView{Number: "M1"}, Children: kids, ChildCount: 450},
		{LicenceView: app.LicenceView{Number: "V1"}},
	}}, now)
	// M1, its first treePreview licences, the link to all 450, V1.
	if len(p.Rows) != treePreview+3 || p.Rows[treePreview+1].More != 450 || p.Rows[treePreview+1].Number != "M1" || p.Under != "" {
		t.Fatalf("summary: %d rows", len(p.Rows))
	}
	p = pageTree(app.TreePage{Licences: []app.TreeNode{{LicenceView: app.LicenceView{Number: "M2"}}}}, now)
	if len(p.Rows) != 1 || p.Rows[0].More != 0 {
		t.Errorf("an MBSA without licences under it: %+v", p.Rows)
	}
	p = pageTree(app.TreePage{Under: "M1", UnderNode: app.TreeNode{LicenceView: app.LicenceView{Number: "M1"}}, Licences: kids, Next: "E0019"}, now)
	if p.Under != "M1" || p.Next != "E0019" || len(p.Rows) != treePreview+1 || p.Rows[0].Number != "M1" || !p.Rows[1].Child {
		t.Errorf("page of M1: under %q, next %q, %d rows", p.Under, p.Next, len(p.Rows))
	}
}
