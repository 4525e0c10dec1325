package frontend

import (
	"fmt"
	"testing"

	"github.com/openlsc/openlsc/app"
)

// TestPageTree: the relationship summary page shows each MBSA collapsed
// with its first licences, and one MBSA's licences page by page.
func TestPageTree(t *testing.T) {
	var kids []app.TreeNode
	for i := range 450 {
		kids = append(kids, app.TreeNode{LicenceView: app.LicenceView{Number: fmt.Sprintf("E%04d", i)}})
	}
	tree := []app.TreeNode{
		{LicenceView: app.LicenceView{Number: "M1"}, Children: kids},
		{LicenceView: app.LicenceView{Number: "V1"}},
	}
	p := pageTree(tree, "", "")
	if len(p.Roots) != 2 || p.Roots[0].Total != 450 || len(p.Roots[0].Children) != treePreview || p.Under != nil {
		t.Fatalf("summary: %d roots, %d of %d shown", len(p.Roots), len(p.Roots[0].Children), p.Roots[0].Total)
	}
	var seen []string
	after := ""
	for range 5 {
		p = pageTree(tree, "M1", after)
		if p.Under == nil || p.Under.Number != "M1" || len(p.Children) > treePageSize {
			t.Fatalf("page after %q: %+v", after, p.Under)
		}
		for _, c := range p.Children {
			seen = append(seen, c.Number)
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if len(seen) != 450 || seen[0] != "E0000" || seen[449] != "E0449" {
		t.Errorf("pages gave %d licences, %v … %v", len(seen), seen[:1], seen[len(seen)-1:])
	}
	if p := pageTree(tree, "M9", ""); p.Under != nil || len(p.Roots) != 2 {
		t.Errorf("unknown MBSA: %+v", p)
	}
}
